import { CLIENT_ERROR_CODES, type ClientErrorCode } from "./client-error-codes.ts";
import type { ErrorCategory, ErrorCode, WireError } from "./protocol/index.ts";

/** Every code a BerthError can carry: berth's own (docs/errors.md) and the client's. */
export type BerthErrorCode = ErrorCode | ClientErrorCode;

export interface BerthErrorInit<C extends BerthErrorCode = BerthErrorCode> {
  code: C;
  message: string;
  category: ErrorCategory;
  retryable: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * Every failure the client reports: an answer of berth's (`{ ok: false,
 * error }`, a refused handshake) or one of the client's own
 * (CLIENT_ERROR_CODES: not connected, timed out, too large, closed, …).
 * One class, narrowed by `code`; `retryable` says whether the same request
 * may succeed later unchanged.
 *
 * @example
 *   try {
 *     await berth.containers.get("weather-bot");
 *   } catch (err) {
 *     if (isBerthError(err, "NOT_FOUND")) console.log("no such container");
 *     else throw err;
 *   }
 */
export class BerthError<C extends BerthErrorCode = BerthErrorCode> extends Error {
  override readonly name = "BerthError";
  readonly code: C;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(init: BerthErrorInit<C>) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.category = init.category;
    this.retryable = init.retryable;
    if (init.details !== undefined) this.details = init.details;
  }

  /** berth's answer `{ ok: false, error }` as a BerthError. */
  static fromWire(error: WireError): BerthError<ErrorCode> {
    return new BerthError({
      code: error.code,
      message: error.message,
      category: error.category,
      retryable: error.retryable,
      ...(error.details === undefined ? {} : { details: error.details }),
    });
  }

  /** One of the client's own errors, with the registry's category and retryable flag. */
  static client<C extends ClientErrorCode>(
    code: C,
    message: string = CLIENT_ERROR_CODES[code].message,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ): BerthError<C> {
    const def = CLIENT_ERROR_CODES[code];
    return new BerthError({ code, message, category: def.category, retryable: def.retryable, ...options });
  }
}

/**
 * Whether `err` is a BerthError — with `code`, whether it has that code (or
 * one of those codes), narrowing `err.code` to it.
 *
 * @example
 *   if (isBerthError(err, ["TIMEOUT", "DISCONNECTED"])) retryLater();
 */
export function isBerthError<C extends BerthErrorCode = BerthErrorCode>(
  err: unknown,
  code?: C | readonly C[],
): err is BerthError<C> {
  if (!(err instanceof BerthError)) return false;
  if (code === undefined) return true;
  return typeof code === "string" ? err.code === code : (code as readonly string[]).includes(err.code);
}
