import type { ContainerDroppedEvent, TelemetryStream } from "#protocol";
import type { Outbound } from "./engine-outbound.ts";

export interface StreamGuardLimits {
  /** Above this many bytes buffered, telemetry for the connection is dropped and counted. */
  bufferBytes: number;
  /** A connection above this for longer than `graceMs` is disconnected; at twice this, at once. */
  maxBufferBytes: number;
  graceMs: number;
}

/** What a client missed of one stream of one container: sent as `container:dropped`. */
export type DroppedEvent = ContainerDroppedEvent;

export interface OverBoundReport {
  /** `grace`: over `maxBufferBytes` for the grace period; `ceiling`: at twice it. */
  cause: "grace" | "ceiling";
  bufferedBytes: number;
  maxBufferBytes: number;
  /** How long it had been over `maxBufferBytes`, in ms (0 when it reached the ceiling at once). */
  overMs: number;
}

export interface StreamGuardHooks {
  /** Sends one `container:dropped` to the client. */
  notify(event: DroppedEvent): void;
  /** The connection stayed over its bound: cut it off (once). */
  disconnect(report: OverBoundReport): void;
}

/**
 * How often a connection that is behind is looked at again. The bytes leave
 * in the kernel's own time and no one event says "the buffer is empty" for
 * every transport, so a connection that is behind is polled; one that keeps
 * up costs nothing here.
 */
export const CHECK_INTERVAL_MS = 50;

/**
 * One connection's policy for what berth holds on its way to the client.
 *
 * - While the connection has more than `bufferBytes` buffered it is
 *   *behind*: telemetry (logs, stats, workload messages) meant for it is
 *   dropped and counted per container and stream, instead of queued.
 * - Once it is down to half of that again (so that it does not flap at the
 *   edge), it is told what it missed — one `container:dropped` per
 *   container and stream — before any newer telemetry, and catches up.
 * - Everything else is still queued. A connection that stays above
 *   `maxBufferBytes` for `graceMs` is disconnected; one that reaches twice
 *   `maxBufferBytes` is disconnected at once (it is growing faster than a
 *   grace period can afford).
 */
export class StreamGuard {
  readonly #outbound: Outbound;
  readonly #limits: StreamGuardLimits;
  readonly #hooks: StreamGuardHooks;
  readonly #dropped = new Map<string, DroppedEvent>();
  readonly #stopListening: () => void;
  #timer: NodeJS.Timeout | undefined;
  #overSince: number | undefined;
  #closed = false;

  constructor(outbound: Outbound, limits: StreamGuardLimits, hooks: StreamGuardHooks) {
    this.#outbound = outbound;
    this.#limits = limits;
    this.#hooks = hooks;
    this.#stopListening = outbound.onPacket(() => this.#onPacket());
  }

  /** Whether telemetry for this connection is being dropped now. */
  get behind(): boolean {
    return this.#timer !== undefined;
  }

  /** Bytes buffered for the client now. */
  get bufferedBytes(): number {
    return this.#outbound.bufferedBytes();
  }

  /** Whether one telemetry event about container `id` may go out now; if not, it is counted as dropped. */
  admit(id: string, stream: TelemetryStream): boolean {
    if (this.#closed) return false;
    if (!this.behind && this.#outbound.bufferedBytes() <= this.#limits.bufferBytes) return true;
    this.#fallBehind();
    this.#count(id, stream);
    return false;
  }

  /** Like `admit`, for one event that carries several containers' samples (each is counted). */
  admitAll(ids: readonly string[], stream: TelemetryStream): boolean {
    if (this.#closed) return false;
    if (!this.behind && this.#outbound.bufferedBytes() <= this.#limits.bufferBytes) return true;
    this.#fallBehind();
    for (const id of ids) this.#count(id, stream);
    return false;
  }

  /** Stops watching; nothing more is sent. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopListening();
    this.#dropped.clear();
  }

  #count(id: string, stream: TelemetryStream): void {
    const key = `${stream}\u0000${id}`;
    const entry = this.#dropped.get(key);
    if (entry) entry.count++;
    else this.#dropped.set(key, { id, stream, count: 1 });
  }

  /** Every packet queued (acknowledgements and pushes too) may put the connection over its bounds. */
  #onPacket(): void {
    const bytes = this.#outbound.bufferedBytes();
    if (bytes >= 2 * this.#limits.maxBufferBytes) {
      this.#disconnect({
        cause: "ceiling",
        bufferedBytes: bytes,
        maxBufferBytes: this.#limits.maxBufferBytes,
        overMs: 0,
      });
    } else if (bytes > this.#limits.bufferBytes) {
      this.#fallBehind();
    }
  }

  #fallBehind(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => this.#check(), CHECK_INTERVAL_MS);
    this.#timer.unref();
  }

  #check(): void {
    const bytes = this.#outbound.bufferedBytes();
    const now = Date.now();
    if (bytes > this.#limits.maxBufferBytes) {
      this.#overSince ??= now;
      const overMs = now - this.#overSince;
      const ceiling = bytes >= 2 * this.#limits.maxBufferBytes;
      if (ceiling || overMs >= this.#limits.graceMs) {
        this.#disconnect({
          cause: ceiling ? "ceiling" : "grace",
          bufferedBytes: bytes,
          maxBufferBytes: this.#limits.maxBufferBytes,
          overMs,
        });
      }
      return;
    }
    this.#overSince = undefined;
    if (bytes > this.#limits.bufferBytes / 2) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const notices = [...this.#dropped.values()];
    this.#dropped.clear();
    for (const notice of notices) this.#hooks.notify(notice);
  }

  #disconnect(report: OverBoundReport): void {
    if (this.#closed) return;
    this.close();
    this.#hooks.disconnect(report);
  }
}
