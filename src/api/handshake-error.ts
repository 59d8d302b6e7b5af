import { ERROR_CODES, type ErrorCode } from "#protocol";

/**
 * What a refused client reads in `connect_error`'s message, where the code's
 * own message would not say what to do: the token goes in the handshake's
 * `auth`, which a client new to Socket.IO does not guess.
 */
const HANDSHAKE_MESSAGES: Partial<Record<ErrorCode, string>> = {
  UNAUTHORIZED:
    'A valid token is required: pass it in the handshake, as io(url, { auth: { token: "…" } }) with Socket.IO.',
  TOO_MANY_CONNECTIONS:
    "This owner has as many connections open as berth allows (BERTH_MAX_CONNECTIONS_PER_OWNER); close one, then connect again.",
};

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
  const err = new Error(HANDSHAKE_MESSAGES[code] ?? def.message) as Error & { data: Record<string, unknown> };
  err.data = { code, category: def.category, retryable: def.retryable, ...(details ? { details } : {}) };
  return err;
}
