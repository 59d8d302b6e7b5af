import type { ContainerRecord } from "../store/container-repository.ts";
import type { ContainerState, HealthState } from "./container-state.ts";

/** A workload's channel as clients see it (times in epoch ms). */
export interface ChannelInfo {
  connected: boolean;
  connectedAt?: number;
  lastSeenAt?: number;
  rttMs?: number;
  protocol?: number;
}

/** A container as clients see it. Secret values and host details never appear here. */
export interface ContainerInfo {
  id: string;
  name: string;
  owner: string;
  image: string;
  labels: Record<string, string>;
  state: ContainerState;
  health: HealthState;
  createdAt: number;
  startedAt?: number;
  exitCode?: number;
  release?: number;
  restartPolicy: "no" | "on-failure" | "always";
  network: "none" | "outbound";
  channel?: ChannelInfo;
}

/** The steps of a create, in order; `start` and `ready` only when it starts the workload (and waits for it). */
export type CreateStep = "validate" | "write" | "create" | "start" | "ready";

/**
 * The answer to a create: the container, and how long each step took in
 * milliseconds (0 for a step that did not run). `validate` covers the spec,
 * the code, the quotas and the wait for a turn at the engine.
 */
export type CreatedContainer = ContainerInfo & { timings: Record<CreateStep | "total", number> };

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
    restartPolicy: record.spec.restartPolicy ?? "no",
    network: record.spec.network ?? "none",
  };
  if (record.startedAt !== null) info.startedAt = record.startedAt;
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
