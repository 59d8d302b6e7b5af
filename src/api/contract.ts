import { z } from "zod";
import type { ActivityEntry } from "../activity/activity-entry.ts";
import type { ContainerInfo, CreatedContainer } from "../containers/container-info.ts";
import {
  CodeUpload,
  ContainerName,
  ContainerSpec,
  HealthCheck,
  JsonData,
} from "../containers/container-spec.ts";
import { CONTAINER_STATES, HEALTH_STATES } from "../containers/container-state.ts";
import type { ListResult } from "../containers/list-containers.ts";
import type { ResourceUsage } from "../monitoring/resource-usage.ts";
import { ProgressRequest } from "../progress/progress-request.ts";
import type { UpdateResult } from "../updates/code-updater.ts";
import type { ServerInfo } from "./server-info.ts";
import type { EventSchemas, ResultSchemas, WireErrorSchema } from "./wire-schemas.ts";

/**
 * berth's Socket.IO contract, written once: the zod schema of every
 * client→server payload, the type of every answer, and the server→client
 * events. The server validates with these schemas; the tests and the client
 * SDK are typed from them.
 */
const ContainerRef = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a container id or name");

const ByRef = z.strictObject({ id: ContainerRef });

const TimeoutSec = z.number().int().min(0).max(600);

export const RequestSchemas = {
  "container:create": ContainerSpec,
  "container:start": z.strictObject({ id: ContainerRef, waitReady: z.boolean().optional() }),
  "container:stop": z.strictObject({ id: ContainerRef, timeoutSec: TimeoutSec.optional() }),
  "container:restart": z.strictObject({
    id: ContainerRef,
    timeoutSec: TimeoutSec.optional(),
    waitReady: z.boolean().optional(),
    progress: ProgressRequest.optional(),
  }),
  "container:delete": ByRef,
  "container:status": ByRef,
  "container:list": z.strictObject({
    filter: z
      .strictObject({
        state: z.enum(CONTAINER_STATES).optional(),
        health: z.enum(HEALTH_STATES).optional(),
        namePrefix: z.string().max(63).optional(),
        label: z.string().min(1).max(1200).optional(),
      })
      .optional(),
    limit: z.number().int().min(1).max(500).optional(),
    cursor: z.string().max(200).optional(),
  }),
  "container:send": z.strictObject({ id: ContainerRef, data: JsonData }),
  "container:request": z.strictObject({
    id: ContainerRef,
    data: JsonData,
    timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  }),
  "container:subscribe": ByRef,
  "container:unsubscribe": ByRef,
  "container:update": z.strictObject({
    id: ContainerRef,
    code: CodeUpload,
    readyTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    healthCheck: HealthCheck.optional(),
    progress: ProgressRequest.optional(),
  }),
  "container:rollback": z.strictObject({
    id: ContainerRef,
    release: z.number().int().min(1).optional(),
    progress: ProgressRequest.optional(),
  }),
  "container:releases": ByRef,
  "container:stats": ByRef,
  "container:watch_stats": z.strictObject({
    id: ContainerRef,
    intervalMs: z.number().int().min(250).max(60_000).optional(),
  }),
  "container:unwatch_stats": ByRef,
  "containers:watch_stats": z.strictObject({
    intervalMs: z.number().int().min(250).max(60_000).optional(),
  }),
  "containers:unwatch_stats": z.strictObject({}),
  "container:logs": z.strictObject({
    id: ContainerRef,
    tail: z.number().int().min(1).max(5_000).optional(),
    since: z.number().int().min(0).optional(),
  }),
  "container:follow_logs": z.strictObject({
    id: ContainerRef,
    tail: z.number().int().min(0).max(5_000).optional(),
  }),
  "container:unfollow_logs": ByRef,
  "activity:history": z.strictObject({
    containerId: ContainerRef.optional(),
    afterId: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
  }),
  "server:info": z.strictObject({}),
} as const;

export type ClientEvent = keyof typeof RequestSchemas;
export type RequestOf<E extends ClientEvent> = z.input<(typeof RequestSchemas)[E]>;

/**
 * The `data` of a successful answer to `E`, from its schema in wire-schemas.ts
 * (which the API document is generated from). The answers that are the
 * server's own types (ContainerInfo, UpdateResult, …) are named below; the
 * compiler checks that their schemas say the same.
 */
type Answer<E extends ClientEvent> = z.output<(typeof ResultSchemas)[E]>;

export interface ResultMap {
  /** The container, and how long each step took (`timings`, like an update's). */
  "container:create": CreatedContainer;
  "container:start": ContainerInfo;
  "container:stop": ContainerInfo;
  "container:restart": ContainerInfo;
  "container:delete": Answer<"container:delete">;
  "container:status": ContainerInfo;
  "container:list": ListResult;
  "activity:history": Answer<"activity:history">;
  "container:send": Answer<"container:send">;
  "container:stats": ResourceUsage;
  "container:watch_stats": Answer<"container:watch_stats">;
  "container:unwatch_stats": Answer<"container:unwatch_stats">;
  "containers:watch_stats": Answer<"containers:watch_stats">;
  "containers:unwatch_stats": Answer<"containers:unwatch_stats">;
  "container:logs": Answer<"container:logs">;
  "container:follow_logs": Answer<"container:follow_logs">;
  "container:unfollow_logs": Answer<"container:unfollow_logs">;
  "container:update": UpdateResult;
  "container:rollback": UpdateResult;
  "container:releases": Answer<"container:releases">;
  "container:request": unknown;
  "container:subscribe": Answer<"container:subscribe">;
  "container:unsubscribe": Answer<"container:unsubscribe">;
  "server:info": ServerInfo;
}

/** The `error` of a failed answer: `code` is one of the registry's (errors/error-codes.ts). */
export type WireError = z.output<typeof WireErrorSchema>;

/** Every acknowledgement has this shape. */
export type AckResponse<T> = { ok: true; data: T } | { ok: false; error: WireError };
export type Ack<T> = (response: AckResponse<T>) => void;

export type ClientToServerEvents = {
  [E in ClientEvent]: (payload: RequestOf<E>, ack: Ack<ResultMap[E]>) => void;
};

/** The payload of the pushed event `E`, from its schema in wire-schemas.ts. */
type Pushed<E extends keyof typeof EventSchemas> = z.output<(typeof EventSchemas)[E]>;

export type StatusChangedEvent = Pushed<"container:status_changed">;
export type HealthChangedEvent = Pushed<"container:health_changed">;
/** A `message` frame from a workload, pushed to the container's subscribers. */
export type ContainerMessageEvent = Pushed<"container:message">;
export type ResourceUsageEvent = Pushed<"container:resource_usage">;
/** One tick of an overview: the samples of every running container the connection may see. */
export type StatsOverviewEvent = Pushed<"containers:resource_usage">;
export type ContainerLogEvent = Pushed<"container:log">;
/** Sent just before berth closes a connection whose token was revoked (removed or replaced); its session cannot be recovered. */
export type SessionRevokedEvent = Pushed<"session:revoked">;
/**
 * How many events of one stream of one container a connection missed because
 * it did not read fast enough; sent once it has caught up, before newer events.
 */
export type ContainerDroppedEvent = Pushed<"container:dropped">;
/**
 * One step of a long operation (create, update, rollback, restart) that the
 * caller asked to follow with `progress: { opId }`; sent to the calling
 * connection only, never stored for session recovery. `ms` (how long the
 * step took) is on `done` and `failed`. A failed update or rollback goes on
 * with the steps that put the previous release back, named `rollback:stop`,
 * `rollback:switch`, `rollback:start`, `rollback:ready`.
 */
export type ContainerProgressEvent = Pushed<"container:progress">;

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

// biome-ignore lint/complexity/noBannedTypes: no server-to-server events
export type InterServerEvents = {};

export interface SocketData {
  owner: string;
  admin: boolean;
  /** SHA-256 of the token the connection was made with: a recovered session must present the same one. */
  tokenDigest: Buffer;
}

export { ContainerName };
