import { BerthError } from "./berth-error.ts";

/**
 * Whether `err` says only that the connection went (DISCONNECTED) or the
 * client was closed (CLOSED): a stream that fails with it is not ended for
 * it — it comes back on the next connect, or ends with the client.
 *
 * @example
 *   subscribe().catch((err) => { if (!isConnectionLoss(err)) queue.end(err); });
 */
export function isConnectionLoss(err: unknown): boolean {
  return err instanceof BerthError && (err.code === "DISCONNECTED" || err.code === "CLOSED");
}
