/**
 * berth's wire contract, written once: the payload of every client→server
 * event and its answer, every pushed event, the error codes. Plain types and
 * constants that import nothing, so that the server (which validates against
 * them with zod schemas the compiler holds to these types) and the client
 * SDK (which ships them in its declarations) share one source of truth.
 */
export type { ActivityEntry, ActivityLevel } from "./activity.ts";
export { CHANNEL_PROTOCOL_VERSION } from "./channel-protocol.ts";
export {
  type ChannelInfo,
  CONTAINER_STATES,
  type CodeUpload,
  type ContainerDetail,
  type ContainerInfo,
  type ContainerSpec,
  type ContainerSpecInfo,
  type ContainerState,
  CREATE_STEPS,
  type CreatedContainer,
  type CreateStep,
  HEALTH_STATES,
  type HealthCheck,
  type HealthState,
  type JsonValue,
  type ListResult,
  MAX_SPEC_INFO_LENGTH,
  MAX_SPEC_VALUE_LENGTH,
  type NetworkMode,
  type ProgressRequest,
  type Resources,
  type RestartPolicy,
  RUNTIMES,
  type Runtime,
  type SpecCuts,
} from "./container.ts";
export type {
  Ack,
  AckResponse,
  ClientEvent,
  ClientToServerEvents,
  ContainerRef,
  RequestOf,
  Requests,
  ResultMap,
  WireError,
} from "./contract.ts";
export {
  ERROR_CODES,
  type ErrorCategory,
  type ErrorCode,
  type ErrorCodeDefinition,
  isErrorCode,
} from "./error-codes.ts";
export type {
  ContainerDroppedEvent,
  ContainerLogEvent,
  ContainerMessageEvent,
  ContainerProgressEvent,
  HealthChangedEvent,
  ResourceUsageEvent,
  ServerToClientEvents,
  SessionRevokedEvent,
  StatsOverviewEvent,
  StatusChangedEvent,
  StepStatus,
} from "./events.ts";
export {
  IMAGE_CHECKS,
  type ImageCheckCode,
  type ImageCheckItem,
  type ImageCheckName,
  type ImageCheckRequest,
  type ImageCheckResult,
  type ImageCheckStatus,
} from "./images.ts";
export {
  type LogLine,
  MAX_STATS_HISTORY_CONTAINERS,
  type ResourceUsage,
  type StatsHistory,
  type StatsHistoryOverview,
  type TelemetryStream,
} from "./monitoring.ts";
export {
  GATE_STEPS,
  type GateStep,
  type ReleaseInfo,
  type ReleaseStatus,
  UPDATE_STEPS,
  type UpdateResult,
  type UpdateStep,
} from "./releases.ts";
export type {
  QuotaLimits,
  QuotaUsage,
  RateKind,
  RateLimits,
  RateSpec,
  RuntimeInfo,
  ServerInfo,
} from "./server-info.ts";
