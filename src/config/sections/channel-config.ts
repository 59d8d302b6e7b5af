import { type EnvOf, envInt, MiB } from "../env-values.ts";

/** The channel to each workload: its frames, its requests' timeouts, what a workload may send unasked. */
export const ChannelEnv = {
  BERTH_MAX_FRAME_BYTES: envInt(MiB, 1024),
  BERTH_MAX_REQUEST_TIMEOUT_MS: envInt(30_000, 10, 3_600_000),
  // What a workload may send over its channel unasked, a second (burst: one second's worth); 0: no limit.
  BERTH_CHANNEL_MESSAGE_RATE: envInt(5_000, 0),
  BERTH_CHANNEL_MESSAGE_BYTES_RATE: envInt(8 * MiB, 0),
};

export interface ChannelConfig {
  readonly maxFrameBytes: number;
  readonly maxRequestTimeoutMs: number;
  /**
   * Frames and bytes a second a workload may send over its channel unasked (messages, pings, bad
   * frames — never answers to berth's requests), a burst of one second's worth; over it, berth stops
   * reading its socket until the budget has refilled. 0: no limit.
   */
  readonly channelMessageRate: number;
  readonly channelMessageBytesRate: number;
}

export function channelConfig(e: EnvOf<typeof ChannelEnv>): ChannelConfig {
  return {
    maxFrameBytes: e.BERTH_MAX_FRAME_BYTES,
    maxRequestTimeoutMs: e.BERTH_MAX_REQUEST_TIMEOUT_MS,
    channelMessageRate: e.BERTH_CHANNEL_MESSAGE_RATE,
    channelMessageBytesRate: e.BERTH_CHANNEL_MESSAGE_BYTES_RATE,
  };
}
