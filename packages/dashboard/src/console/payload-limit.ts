import { formatBytes } from "../format.ts";

/**
 * Room kept for what goes around the data in berth's message: the event's
 * name, the container's id, the timeout, Socket.IO's framing (well under this).
 */
export const ENVELOPE_BYTES = 256;

/**
 * Why data of `bytes` (compact JSON, UTF-8) cannot be sent in one message of
 * at most `maxPayloadBytes` (`client.info.limits.maxPayloadBytes`), or
 * undefined when it fits. berth would close the connection rather than
 * answer a larger one, so the console refuses it before sending.
 */
export function payloadProblem(bytes: number, maxPayloadBytes: number): string | undefined {
  const room = maxPayloadBytes - ENVELOPE_BYTES;
  if (bytes <= room) return undefined;
  return `The data is ${formatBytes(bytes)} as sent; berth takes at most ${formatBytes(room)} of data in one message (maxPayloadBytes ${formatBytes(maxPayloadBytes)}). Send less.`;
}
