import { ERROR_CODES, type ErrorCode } from "../errors/error-codes.ts";

/**
 * The error a namespace middleware passes to `next()` to refuse a handshake:
 * the client's `connect_error` carries `data` in berth's wire shape (without
 * the message, which is the error's own).
 */
export function handshakeError(
  code: ErrorCode,
  details?: Record<string, unknown>,
): Error & { data: Record<string, unknown> } {
  const def = ERROR_CODES[code];
  const err = new Error(def.message) as Error & { data: Record<string, unknown> };
  err.data = { code, category: def.category, retryable: def.retryable, ...(details ? { details } : {}) };
  return err;
}
