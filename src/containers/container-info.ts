import type { ChannelInfo, ContainerInfo, ContainerState } from "#protocol";
import type { ContainerRecord } from "../store/store-ports.ts";

/** The states in which the workload's process runs (or is frozen, or winding down), so `startedAt` is shown. */
const RUNS: ReadonlySet<ContainerState> = new Set(["running", "paused", "stopping", "updating"]);

export function toContainerInfo(record: ContainerRecord, channel?: ChannelInfo): ContainerInfo {
  const info: ContainerInfo = {
    id: record.id,
    name: record.name,
    owner: record.owner,
    image: record.image,
    labels: record.spec.labels ?? {},
    state: record.state,
    health: record.health,
    createdAt: record.createdAt,
    startedAt: record.startedAt !== null && RUNS.has(record.state) ? record.startedAt : null,
    restartCount: record.restartCount,
    restartPolicy: record.spec.restartPolicy ?? "no",
    network: record.spec.network ?? "none",
  };
  if (record.spec.runtime !== undefined) info.runtime = record.spec.runtime;
  if (record.exitCode !== null) info.exitCode = record.exitCode;
  if (record.release !== null) info.release = record.release;
  if (channel) {
    // Only the documented fields: the hub also knows meta, requests in flight and bad-frame counts.
    const c: ChannelInfo = { connected: channel.connected };
    if (channel.connectedAt !== undefined) c.connectedAt = channel.connectedAt;
    if (channel.lastSeenAt !== undefined) c.lastSeenAt = channel.lastSeenAt;
    if (channel.rttMs !== undefined) c.rttMs = channel.rttMs;
    if (channel.protocol !== undefined) c.protocol = channel.protocol;
    info.channel = c;
  }
  return info;
}
