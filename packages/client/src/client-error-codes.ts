import type { ErrorCategory } from "./protocol/index.ts";

/** One client code's entry: the same shape as the server's registry (ERROR_CODES). */
export interface ClientErrorCodeDefinition {
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  /** What the error says when the client has nothing more precise to say. */
  readonly message: string;
}

/**
 * The errors only the client can produce: berth never answers with these,
 * and none of them equals one of berth's codes (a test checks), so a `code`
 * alone says who raised it. Same shape as the server's ERROR_CODES.
 */
export const CLIENT_ERROR_CODES = {
  CONNECTION_FAILED: {
    category: "communication",
    retryable: true,
    message: "Could not connect to berth.",
  },
  DISCONNECTED: {
    category: "communication",
    retryable: true,
    message: "The connection to berth dropped before the answer came; the client is reconnecting.",
  },
  TIMEOUT: {
    category: "communication",
    retryable: true,
    message: "berth did not answer within the client's timeout.",
  },
  PAYLOAD_TOO_LARGE: {
    category: "validation",
    retryable: false,
    message: "The payload is larger than berth accepts.",
  },
  CLOSED: {
    category: "communication",
    retryable: false,
    message: "The client was closed.",
  },
  SESSION_REVOKED: {
    category: "auth",
    retryable: false,
    message: "The token this client connected with was revoked; connect again with a valid token.",
  },
  ABORTED: {
    category: "communication",
    retryable: false,
    message: "The call was aborted by its signal; berth may still carry the operation out.",
  },
  BAD_RESPONSE: {
    category: "communication",
    retryable: false,
    message: "berth answered with something that is not an acknowledgement of its protocol.",
  },
} as const satisfies Record<string, ClientErrorCodeDefinition>;

export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;
