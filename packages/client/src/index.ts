// @berth/client: the typed client for berth. Wire types come from ./protocol/index.ts only.
export type { Activity } from "./activity.ts";
export type { ActivityListener } from "./activity-feed.ts";
export { BerthClient, type ClientEvents } from "./berth-client.ts";
export { BerthError, type BerthErrorCode, type BerthErrorInit, isBerthError } from "./berth-error.ts";
export type { CallOptions, Unsubscribe } from "./call-options.ts";
export type { BerthSocket, ConnectOptions } from "./client-core.ts";
export {
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  type ClientErrorCodeDefinition,
} from "./client-error-codes.ts";
export { connect } from "./connect.ts";
export type { ConnectionState } from "./connection-state.ts";
export { Container, type StreamIterator, type StreamOptions, type UpdateOptions } from "./container.ts";
export type { ContainerList, ListFilter, ListOptions } from "./container-list.ts";
export type { Containers } from "./containers.ts";
export { DEFAULT_QUEUE_BOUND } from "./event-queue.ts";
export type { Images } from "./images.ts";
export type { MessageListener } from "./message-subscriptions.ts";
export type { ProgressListener } from "./progress.ts";
export * from "./protocol/index.ts";
export type { Stats } from "./stats.ts";
export type { Subscription } from "./subscription.ts";
