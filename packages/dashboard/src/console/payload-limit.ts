import type { ServerInfo } from "@berth/client";
import { formatBytes } from "../format.ts";

/**
 * Room kept for what goes around the data: in berth's Socket.IO message, the
 * event's name, the container's id, the timeout and the framing; in the
 * channel's frame, its type and id. Both well under this.
 */
export const ENVELOPE_BYTES = 256;

type Limits = Pick<ServerInfo["limits"], "maxPayloadBytes" | "maxFrameBytes">;

/**
 * Why data of `bytes` (compact JSON, UTF-8) cannot be sent, or undefined when
 * it fits. Over `maxPayloadBytes` berth would close the connection rather
 * than answer; over `maxFrameBytes` it would answer FRAME_TOO_LARGE, since the
 * data must fit in one frame to the workload. The console refuses both
 * before sending, naming the limit.
 */
export function payloadProblem(bytes: number, limits: Limits): string | undefined {
  const message = limits.maxPayloadBytes - ENVELOPE_BYTES;
  if (bytes > message)
    return `The data is ${formatBytes(bytes)} as sent; berth takes at most ${formatBytes(message)} of data in one message (maxPayloadBytes ${formatBytes(limits.maxPayloadBytes)}). Send less.`;
  const frame = limits.maxFrameBytes - ENVELOPE_BYTES;
  if (bytes > frame)
    return `The data is ${formatBytes(bytes)} as sent; a frame to the workload holds at most ${formatBytes(frame)} of data (maxFrameBytes ${formatBytes(limits.maxFrameBytes)}). Send less.`;
  return undefined;
}
