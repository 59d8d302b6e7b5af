/**
 * The registry of every error code berth can answer with. Each code has one
 * category and one retryable flag, so a client can decide what to do from the
 * code alone. docs/errors.md documents the same table; a test keeps them in step.
 */
export type ErrorCategory = "validation" | "docker" | "communication" | "system" | "auth";

export interface ErrorCodeDefinition {
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  /** What the client sees when the thrower gives no message of its own. */
  readonly message: string;
}

export const ERROR_CODES = {
  VALIDATION_FAILED: {
    category: "validation",
    retryable: false,
    message: "The request is not valid.",
  },
  NOT_FOUND: { category: "validation", retryable: false, message: "No such container." },
  UNKNOWN_EVENT: {
    category: "validation",
    retryable: false,
    message: "berth has no such event.",
  },
  NAME_CONFLICT: {
    category: "validation",
    retryable: false,
    message: "A container with this name already exists.",
  },
  CONFLICT: {
    category: "system",
    retryable: true,
    message: "Another operation is in progress on this container.",
  },
  UNAUTHORIZED: { category: "auth", retryable: false, message: "A valid token is required." },
  FORBIDDEN: {
    category: "auth",
    retryable: false,
    message: "This request is the server admin's only.",
  },
  TOO_MANY_CONNECTIONS: {
    category: "auth",
    retryable: true,
    message: "This owner has as many connections open as berth allows.",
  },
  DOCKER_UNAVAILABLE: {
    category: "docker",
    retryable: true,
    message: "The container engine is not reachable right now.",
  },
  IMAGE_NOT_FOUND: {
    category: "docker",
    retryable: false,
    message: "The image is not present on the container engine.",
  },
  IMAGE_INCOMPATIBLE: {
    category: "docker",
    retryable: false,
    message: "The image cannot run workloads for this server.",
  },
  DOCKER_ERROR: {
    category: "docker",
    retryable: false,
    message: "The container engine refused the operation.",
  },
  NOT_READY: {
    category: "communication",
    retryable: false,
    message: "The workload did not become ready.",
  },
  CHANNEL_NOT_CONNECTED: {
    category: "communication",
    retryable: true,
    message: "The workload is not connected.",
  },
  CHANNEL_DISCONNECTED: {
    category: "communication",
    retryable: true,
    message: "The workload disconnected before it answered.",
  },
  CHANNEL_TIMEOUT: {
    category: "communication",
    retryable: true,
    message: "The workload did not answer in time.",
  },
  CHANNEL_BUSY: {
    category: "communication",
    retryable: true,
    message: "Too many messages are waiting for this workload; try again shortly.",
  },
  TOO_MANY_SUBSCRIPTIONS: {
    category: "validation",
    retryable: false,
    message: "This connection holds as many subscriptions as it may.",
  },
  CONNECTION_CLOSED: {
    category: "communication",
    retryable: true,
    message: "The connection closed before the answer was ready.",
  },
  FRAME_TOO_LARGE: {
    category: "validation",
    retryable: false,
    message: "The data is larger than the frame limit.",
  },
  WORKLOAD_ERROR: {
    category: "communication",
    retryable: false,
    message: "The workload answered with an error.",
  },
  UPDATE_ROLLED_BACK: {
    category: "communication",
    retryable: false,
    message: "The new code did not come up, so the previous release was put back.",
  },
  ROLLBACK_FAILED: {
    category: "system",
    retryable: false,
    message: "The new code did not come up, and putting the previous release back failed too.",
  },
  STORAGE_ERROR: {
    category: "system",
    retryable: true,
    message: "berth could not write to its data directory.",
  },
  QUOTA_EXCEEDED: {
    category: "validation",
    retryable: false,
    message: "The owner's quota does not allow this.",
  },
  NO_CAPACITY: {
    category: "system",
    retryable: true,
    message: "No node of the cluster has room for this workload now.",
  },
  RATE_LIMITED: {
    category: "system",
    retryable: true,
    message: "Too many requests; try again shortly.",
  },
  EGRESS_FILTER_UNAVAILABLE: {
    category: "system",
    retryable: false,
    message: "Outbound network is unavailable: this server cannot filter it.",
  },
  SHUTTING_DOWN: { category: "system", retryable: true, message: "berth is shutting down." },
  INTERNAL: { category: "system", retryable: false, message: "Something went wrong inside berth." },
} as const satisfies Record<string, ErrorCodeDefinition>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
