import type { ActivityEntry } from "./activity.ts";
import type {
  CodeUpload,
  ContainerDetail,
  ContainerInfo,
  ContainerSpec,
  ContainerState,
  CreatedContainer,
  HealthCheck,
  HealthState,
  JsonValue,
  ListResult,
  ProgressRequest,
} from "./container.ts";
import type { ErrorCategory, ErrorCode } from "./error-codes.ts";
import type { ImageCheckRequest, ImageCheckResult } from "./images.ts";
import type { LogLine, ResourceUsage, StatsHistory, StatsHistoryOverview } from "./monitoring.ts";
import type { ReleaseInfo, UpdateResult } from "./releases.ts";
import type { ServerInfo } from "./server-info.ts";

/** A container's id (`C` and 11 characters) or its name. */
export type ContainerRef = string;

interface ById {
  id: ContainerRef;
}

/**
 * What each client→server event takes. berth refuses unknown fields at every
 * level, and answers every event with an acknowledgement (`AckResponse`).
 */
export interface Requests {
  "container:create": ContainerSpec;
  "container:start": ById & { waitReady?: boolean };
  "container:stop": ById & { timeoutSec?: number };
  "container:restart": ById & { timeoutSec?: number; waitReady?: boolean; progress?: ProgressRequest };
  "container:delete": ById;
  /** With `spec: true`, the answer also carries the container's spec (ContainerDetail); a large read. */
  "container:status": ById & { spec?: boolean };
  "container:list": {
    filter?: { state?: ContainerState; health?: HealthState; namePrefix?: string; label?: string };
    limit?: number;
    cursor?: string;
  };
  "container:send": ById & { data: JsonValue };
  "container:request": ById & { data: JsonValue; timeoutMs?: number };
  "container:subscribe": ById;
  "container:unsubscribe": ById;
  "container:update": ById & {
    code: CodeUpload;
    readyTimeoutMs?: number;
    healthCheck?: HealthCheck;
    progress?: ProgressRequest;
  };
  "container:rollback": ById & { release?: number; progress?: ProgressRequest };
  "container:releases": ById;
  "container:stats": ById;
  "container:watch_stats": ById & { intervalMs?: number };
  "container:unwatch_stats": ById;
  "containers:watch_stats": { intervalMs?: number };
  "containers:unwatch_stats": Record<string, never>;
  "container:stats_history": ById;
  "containers:stats_history": Record<string, never>;
  "container:logs": ById & { tail?: number; since?: number };
  "container:follow_logs": ById & { tail?: number };
  "container:unfollow_logs": ById;
  /**
   * The caller's entries after `afterId` (default 0), oldest first, at most
   * `limit` (default 100); with `newest`, the newest `limit` of them (what
   * `docker logs --tail` would show; `limit: 1` gives the id to follow from).
   */
  "activity:history": { containerId?: ContainerRef; afterId?: number; newest?: boolean; limit?: number };
  "server:info": Record<string, never>;
  /** The admin's only: whether berth can run workloads in an image, by doing what berth does (FORBIDDEN for owners). */
  "image:check": ImageCheckRequest;
}

export type ClientEvent = keyof Requests;
export type RequestOf<E extends ClientEvent> = Requests[E];

/** The `data` of each event's successful acknowledgement. */
export interface ResultMap {
  /** The container, and how long each step took (`timings`, like an update's). */
  "container:create": CreatedContainer;
  "container:start": ContainerInfo;
  "container:stop": ContainerInfo;
  "container:restart": ContainerInfo;
  "container:delete": { id?: string; deleted: boolean };
  /** The container; with `spec: true` asked, with its spec (`spec`, secret values left out): the one answer that carries it. */
  "container:status": ContainerInfo | ContainerDetail;
  "container:list": ListResult;
  /** `hasMore`: more entries lie beyond this page — newer ones, or with `newest`, older ones. */
  "activity:history": { items: ActivityEntry[]; hasMore: boolean };
  "container:send": { id: string };
  "container:stats": ResourceUsage;
  "container:watch_stats": { id: string; intervalMs: number };
  "container:unwatch_stats": { id: string; watching: boolean };
  /** `containers`: how many running containers the overview samples now. */
  "containers:watch_stats": { intervalMs: number; containers: number };
  "containers:unwatch_stats": { watching: false };
  "container:stats_history": StatsHistory;
  "containers:stats_history": StatsHistoryOverview;
  /** `truncated`: older lines were left out to keep the answer within 4 MiB. */
  "container:logs": { lines: LogLine[]; truncated?: true };
  "container:follow_logs": { id: string; following: true };
  "container:unfollow_logs": { id: string; following: boolean };
  "container:update": UpdateResult;
  "container:rollback": UpdateResult;
  "container:releases": { items: ReleaseInfo[] };
  /** The workload's answer: any JSON value. */
  "container:request": unknown;
  "container:subscribe": { id: string; subscribed: true };
  "container:unsubscribe": { id: string; subscribed: false };
  "server:info": ServerInfo;
  "image:check": ImageCheckResult;
}

/** The `error` of a failed answer: `code` is one of the registry's (error-codes.ts, docs/errors.md). */
export interface WireError {
  code: ErrorCode;
  category: ErrorCategory;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

/** Every acknowledgement has this shape. */
export type AckResponse<T> = { ok: true; data: T } | { ok: false; error: WireError };
export type Ack<T> = (response: AckResponse<T>) => void;

export type ClientToServerEvents = {
  [E in ClientEvent]: (payload: RequestOf<E>, ack: Ack<ResultMap[E]>) => void;
};
