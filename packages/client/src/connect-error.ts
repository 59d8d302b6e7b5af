import { BerthError } from "./berth-error.ts";
import { ERROR_CODES, type ErrorCode } from "./protocol/index.ts";

/** A `connect_error` as socket.io-client gives it: berth's refusal carries `data` in its wire shape. */
export interface ConnectErrorLike extends Error {
  data?: { code?: unknown; category?: unknown; retryable?: unknown; details?: unknown };
  description?: unknown;
  type?: unknown;
}

const HOW_TO_START = "is berth running? Start it with `npm start` or `berth serve`";

/** berth's own refusal of a handshake (UNAUTHORIZED, TOO_MANY_CONNECTIONS, …), or undefined for a transport failure. */
export function refusalOf(err: ConnectErrorLike): BerthError<ErrorCode> | undefined {
  const code = err.data?.code;
  if (typeof code !== "string" || !Object.hasOwn(ERROR_CODES, code)) return undefined;
  const def = ERROR_CODES[code as ErrorCode];
  const details = err.data?.details;
  return new BerthError({
    code: code as ErrorCode,
    message: err.message || def.message,
    category: def.category,
    retryable: def.retryable,
    ...(details && typeof details === "object" ? { details: details as Record<string, unknown> } : {}),
  });
}

/** The system error code (ECONNREFUSED, …) buried in a transport error, where there is one. */
function errnoOf(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 4) return undefined;
  const e = err as { code?: unknown; error?: unknown; cause?: unknown; description?: unknown };
  if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) return e.code;
  return errnoOf(e.error, depth + 1) ?? errnoOf(e.cause, depth + 1) ?? errnoOf(e.description, depth + 1);
}

/** Text of the transport's own failure ("Unexpected server response: 403", …), where it says more than its type. */
function detailOf(err: ConnectErrorLike): string {
  const d = err.description as { message?: unknown; error?: { message?: unknown } } | undefined;
  const text = d?.error?.message ?? d?.message;
  return typeof text === "string" && text ? text : err.message;
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name did not resolve",
  ETIMEDOUT: "the connection timed out",
  ECONNRESET: "the connection was reset",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
};

/**
 * What `connect()` rejects with when nothing usable answered: CONNECTION_FAILED
 * with a message that says what happened and what to do.
 */
export function connectionFailed(
  url: string,
  err: ConnectErrorLike | "timeout",
  timeoutMs: number,
): BerthError {
  if (err === "timeout" || err.message === "timeout")
    return BerthError.client(
      "CONNECTION_FAILED",
      `no answer from ${url} within ${timeoutMs} ms — ${HOW_TO_START}, and is the URL right?`,
      { details: { url, reason: "timeout" }, ...(err === "timeout" ? {} : { cause: err }) },
    );
  const errno = errnoOf(err);
  const reason = errno ? (ERRNO_TEXT[errno] ?? errno) : detailOf(err);
  const message =
    errno === "ECONNREFUSED"
      ? `nothing answered at ${url}: ${reason} — ${HOW_TO_START}`
      : `could not connect to berth at ${url}: ${reason} — ${HOW_TO_START}, and is the URL right?`;
  return BerthError.client("CONNECTION_FAILED", message, {
    details: { url, reason: errno ?? reason },
    cause: err,
  });
}
