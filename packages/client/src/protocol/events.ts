import type { ActivityEntry } from "./activity.ts";
import type { CreateStep } from "./container.ts";
import type { LogLine, ResourceUsage, TelemetryStream } from "./monitoring.ts";
import type { UpdateStep } from "./releases.ts";

/** A container's state changed; `reason` says why in plain words. */
export interface StatusChangedEvent {
  id: string;
  name: string;
  from: string;
  to: string;
  health: string;
  exitCode?: number;
  oomKilled?: boolean;
  /** The container's `startedAt` after the change (ContainerInfo): null once it no longer runs. */
  startedAt: number | null;
  /** The container's `restartCount` after the change (ContainerInfo). */
  restartCount: number;
  reason: string;
  ts: number;
}

export interface HealthChangedEvent {
  id: string;
  name: string;
  health: string;
  previous: string;
  reason: string;
  ts: number;
}

/** A `message` frame from a workload, pushed to the container's subscribers. */
export interface ContainerMessageEvent {
  id: string;
  data: unknown;
  ts: number;
}

export type ResourceUsageEvent = ResourceUsage & { id: string };

/** One tick of an overview: the samples of every running container the connection may see. */
export interface StatsOverviewEvent {
  ts: number;
  samples: ResourceUsageEvent[];
}

export type ContainerLogEvent = LogLine & { id: string };

/** Sent just before berth closes a connection whose token was revoked (removed or replaced); its session cannot be recovered. */
export interface SessionRevokedEvent {
  reason: "token_revoked";
  ts: number;
}

/**
 * How many events of one stream of one container a connection missed because
 * it did not read fast enough; sent once it has caught up, before newer events.
 */
export interface ContainerDroppedEvent {
  id: string;
  stream: TelemetryStream;
  count: number;
}

export type StepStatus = "started" | "done" | "failed";

/**
 * One step of a long operation (create, update, rollback, restart) that the
 * caller asked to follow with `progress: { opId }`; sent to the calling
 * connection only, never stored for session recovery. `ms` (how long the
 * step took) is on `done` and `failed`. A failed update or rollback goes on
 * with the steps that put the previous release back, named `rollback:stop`,
 * `rollback:switch`, `rollback:start`, `rollback:ready`.
 */
export interface ContainerProgressEvent {
  opId: string;
  id: string;
  step: CreateStep | UpdateStep;
  status: StepStatus;
  ms?: number;
}

/** Every event berth pushes, with its payload. */
export interface ServerToClientEvents {
  "container:resource_usage": (event: ResourceUsageEvent) => void;
  "containers:resource_usage": (event: StatsOverviewEvent) => void;
  "container:log": (event: ContainerLogEvent) => void;
  "container:message": (event: ContainerMessageEvent) => void;
  "container:dropped": (event: ContainerDroppedEvent) => void;
  "container:health_changed": (event: HealthChangedEvent) => void;
  "container:status_changed": (event: StatusChangedEvent) => void;
  "container:progress": (event: ContainerProgressEvent) => void;
  activity_log: (entry: ActivityEntry) => void;
  "session:revoked": (event: SessionRevokedEvent) => void;
}
