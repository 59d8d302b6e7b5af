import { BerthError, type BerthErrorOptions } from "../errors/berth-error.ts";

/**
 * The errors a caller of the channel can see. Each keeps a registry code so
 * the API layer maps it to the wire without knowing the channel; `details`
 * holds only facts a client may see (never the data that was sent).
 */

/** No workload has completed its handshake on this container's socket right now. */
export class ChannelNotConnectedError extends BerthError {
  constructor(message?: string, options?: BerthErrorOptions) {
    super("CHANNEL_NOT_CONNECTED", message, options);
  }
}

/** The connection went away while the call was in flight. */
export class ChannelDisconnectedError extends BerthError {
  constructor(reason: string, options?: BerthErrorOptions) {
    super("CHANNEL_DISCONNECTED", undefined, { ...options, details: { reason, ...options?.details } });
  }
}

export class ChannelTimeoutError extends BerthError {
  constructor(timeoutMs: number) {
    super("CHANNEL_TIMEOUT", `The workload did not answer within ${timeoutMs} ms.`, {
      details: { timeoutMs },
    });
  }
}

/** The workload is not reading fast enough: its outbound queue is full. */
export class ChannelBusyError extends BerthError {
  constructor(queuedBytes: number, limitBytes: number) {
    super("CHANNEL_BUSY", undefined, { details: { queuedBytes, limitBytes } });
  }
}

export class FrameTooLargeError extends BerthError {
  constructor(bytes: number, limitBytes: number) {
    super("FRAME_TOO_LARGE", `The frame is ${bytes} bytes; the limit is ${limitBytes}.`, {
      details: { bytes, limitBytes },
    });
  }
}

/** The workload's request handler failed; `details` carries what it said: `{ message, code? }`. */
export class WorkloadError extends BerthError {
  constructor(error: { message: string; code?: string }) {
    const details: Record<string, unknown> = { message: error.message };
    if (error.code !== undefined) details.code = error.code;
    super("WORKLOAD_ERROR", undefined, { details });
  }
}
