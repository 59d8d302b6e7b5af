import type { BerthClient } from "@berth/client";
// Releases and the message console (src/releases, src/console): mounted in their own block below.
import { MessageConsole } from "../console/message-console.tsx";
import { StateBadge } from "../containers/state-badge.tsx";
import { useContainerStore } from "../containers/use-container-store.ts";
import { formatBytes, formatDuration, formatPercent, formatTime } from "../format.ts";
import { ReleaseHistory } from "../releases/release-history.tsx";
import { useNow } from "../use-now.ts";

interface Props {
  client: BerthClient;
  name: string;
}

/** `#/containers/:name`: one container's state, health and usage, live. */
export function ContainerPage({ client, name }: Props) {
  const snapshot = useContainerStore(client);
  const now = useNow();
  const row = snapshot.rows.find((r) => r.info.name === name);

  if (!row) {
    return (
      <>
        <h1>{name}</h1>
        <p role="status">
          {snapshot.status === "loading"
            ? "Loading…"
            : `There is no container named “${name}” that you may see.`}
        </p>
        <p>
          <a href="#/">Back to the containers</a>
        </p>
      </>
    );
  }
  const { info, usage } = row;
  return (
    <>
      <h1>{info.name}</h1>
      <dl class="facts">
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
        <dt>CPU</dt>
        <dd>{usage ? formatPercent(usage.cpuPercent) : "—"}</dd>
        <dt>Memory</dt>
        <dd>{usage ? `${formatBytes(usage.memoryBytes)} of ${formatBytes(usage.memoryLimitBytes)}` : "—"}</dd>
        <dt>Owner</dt>
        <dd>{info.owner}</dd>
        <dt>Image</dt>
        <dd>
          <code>{info.image}</code>
          {info.runtime && ` (${info.runtime})`}
        </dd>
        <dt>Release</dt>
        <dd>{info.release ?? "—"}</dd>
        <dt>Restart policy</dt>
        <dd>{info.restartPolicy}</dd>
        <dt>Network</dt>
        <dd>{info.network}</dd>
        <dt>Channel</dt>
        <dd>{info.channel?.connected ? "connected" : "not connected"}</dd>
        <dt>Created</dt>
        <dd>{formatTime(info.createdAt)}</dd>
        <dt>Labels</dt>
        <dd>
          {Object.keys(info.labels).length === 0
            ? "none"
            : Object.entries(info.labels).map(([k, v]) => (
                <code key={k} class="label">
                  {k}={v}
                </code>
              ))}
        </dd>
      </dl>
      {/* Releases and the message console: each a section with its own h2, live by itself. */}
      <ReleaseHistory client={client} info={info} />
      <MessageConsole client={client} info={info} />
    </>
  );
}
