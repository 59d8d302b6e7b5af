import type { ChannelObserver, ContainerTraffic } from "../channel/channel-observer.ts";
import type { ProtocolErrorCode } from "../channel/protocol.ts";

/** What a container's channel carried from the workload since berth opened it. */
export interface ChannelTotals {
  receivedBytes: number;
  refusedFrames: number;
  /** Times berth stopped reading the channel (over its budget of frames sent unasked), and for how long in all. */
  holds: number;
  heldMs: number;
}

/**
 * Adds up what each workload sends over its channel — bytes read and frames
 * refused, holds — for the PressureMonitor, which tells a flood in the feed; passes
 * every report on to the metrics' observer when there is one. Two additions
 * a chunk read: the channel's hot path stays cheap.
 *
 * ```ts
 * const tally = new ChannelTally(metrics?.channel);
 * new SocketCommunicationHandler({ …, observer: tally });
 * tally.totals(id); // { receivedBytes, refusedFrames, holds, heldMs }
 * ```
 */
export class ChannelTally implements ChannelObserver {
  readonly #inner: ChannelObserver | undefined;
  readonly #counts = new Map<string, ChannelTotals>();

  constructor(inner?: ChannelObserver) {
    this.#inner = inner;
  }

  forContainer(id: string): ContainerTraffic {
    const inner = this.#inner?.forContainer(id);
    let counts = this.#counts.get(id);
    if (counts === undefined) {
      counts = { receivedBytes: 0, refusedFrames: 0, holds: 0, heldMs: 0 };
      this.#counts.set(id, counts);
    }
    const mine = counts;
    return {
      requestEnded: (seconds: number, error: unknown) => inner?.requestEnded(seconds, error),
      received: (bytes: number) => {
        mine.receivedBytes += bytes;
        inner?.received(bytes);
      },
      sent: (bytes: number) => inner?.sent(bytes),
      frameRefused: (code: ProtocolErrorCode) => {
        mine.refusedFrames++;
        inner?.frameRefused(code);
      },
      held: (ms: number, started: boolean) => {
        if (started) mine.holds++;
        mine.heldMs += ms;
        inner?.held(ms, started);
      },
    };
  }

  forget(id: string): void {
    this.#counts.delete(id);
    this.#inner?.forget(id);
  }

  /** The container's totals so far (a copy), or undefined when its channel was never opened. */
  totals(id: string): ChannelTotals | undefined {
    const counts = this.#counts.get(id);
    return counts && { ...counts };
  }
}
