import type { ContainerInfo, ResourceUsage } from "@berth/client";
import { StateBadge } from "../containers/state-badge.tsx";
import { formatBytes, formatDuration, formatPercent, formatTime } from "../format.ts";

interface Props {
  info: ContainerInfo;
  usage: ResourceUsage | undefined;
  now: number;
}

/** The container's state at a glance, live: state, health, uptime, restarts, usage, release, channel. */
export function ContainerFacts({ info, usage, now }: Props) {
  return (
    <dl class="facts container-facts">
      <dt>State</dt>
      <dd>
        <StateBadge kind="state" value={info.state} />
        {info.exitCode !== undefined && info.state !== "running" && ` (exit code ${info.exitCode})`}
      </dd>
      <dt>Health</dt>
      <dd>
        <StateBadge kind="health" value={info.health} />
      </dd>
      <dt>Uptime</dt>
      <dd>
        {info.state === "running" && info.startedAt != null ? formatDuration(now - info.startedAt) : "—"}
      </dd>
      <dt>Restarts</dt>
      <dd>{info.restartCount}</dd>
      <dt>CPU</dt>
      <dd>{usage ? formatPercent(usage.cpuPercent) : "—"}</dd>
      <dt>Memory</dt>
      <dd>{usage ? `${formatBytes(usage.memoryBytes)} of ${formatBytes(usage.memoryLimitBytes)}` : "—"}</dd>
      <dt>Owner</dt>
      <dd>{info.owner}</dd>
      <dt>Release</dt>
      <dd>{info.release ?? "—"}</dd>
      <dt>Channel</dt>
      <dd>{info.channel?.connected ? "connected" : "not connected"}</dd>
      <dt>Created</dt>
      <dd>{formatTime(info.createdAt)}</dd>
    </dl>
  );
}
