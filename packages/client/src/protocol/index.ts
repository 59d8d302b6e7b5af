// TEMPORARY: re-exports of the server's contract, until the wire types move here
// (this file becomes the contract's leaf; the names below stay the same).
export type {
  Ack,
  AckResponse,
  ClientEvent,
  ClientToServerEvents,
  ContainerDroppedEvent,
  ContainerLogEvent,
  ContainerMessageEvent,
  ContainerProgressEvent,
  HealthChangedEvent,
  RequestOf,
  ResourceUsageEvent,
  ResultMap,
  ServerToClientEvents,
  SessionRevokedEvent,
  StatsOverviewEvent,
  StatusChangedEvent,
  WireError,
} from "../../../../src/api/contract.ts";
export type { ActivityEntry } from "../../../../src/activity/activity-entry.ts";
export type { ContainerInfo, CreatedContainer } from "../../../../src/containers/container-info.ts";
export type { ContainerState, HealthState } from "../../../../src/containers/container-state.ts";
export type { ListResult } from "../../../../src/containers/list-containers.ts";
export type { ContainerLogLine as LogLine } from "../../../../src/monitoring/log-line-splitter.ts";
export type { ResourceUsage } from "../../../../src/monitoring/resource-usage.ts";
export type { ServerInfo } from "../../../../src/api/server-info.ts";
export type { ReleaseInfo, UpdateResult } from "../../../../src/updates/code-updater.ts";
export { ERROR_CODES, type ErrorCategory, type ErrorCode } from "../../../../src/errors/error-codes.ts";
import type { RequestOf } from "../../../../src/api/contract.ts";
/** What `container:create` takes. */
export type ContainerSpec = RequestOf<"container:create">;
/** A workload's code: `{ files }` (path → text) or `{ archive }` (base64 tar.gz). */
export type CodeUpload = RequestOf<"container:update">["code"];
