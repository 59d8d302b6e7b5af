/**
 * Liveness of one connection. Every `intervalMs` it asks for a ping; when no
 * byte at all arrived from the peer during `misses` intervals in a row, the
 * peer is taken for dead. Any traffic counts, not only pongs, so a busy
 * workload is never dropped for a pong stuck behind its own output.
 */
export class Heartbeat {
  readonly #intervalMs: number;
  readonly #misses: number;
  readonly #sendPing: () => void;
  readonly #onDead: () => void;
  #timer: NodeJS.Timeout | undefined;
  #silentBeats = 0;
  /** Set by the connection on every chunk it reads; a plain field so the hot path stays a store. */
  sawTraffic = false;

  constructor(intervalMs: number, misses: number, sendPing: () => void, onDead: () => void) {
    this.#intervalMs = intervalMs;
    this.#misses = misses;
    this.#sendPing = sendPing;
    this.#onDead = onDead;
  }

  start(): void {
    if (this.#timer !== undefined || this.#intervalMs <= 0) return;
    this.#timer = setInterval(() => this.#beat(), this.#intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #beat(): void {
    this.#silentBeats = this.sawTraffic ? 0 : this.#silentBeats + 1;
    this.sawTraffic = false;
    if (this.#silentBeats >= this.#misses) {
      this.stop();
      this.#onDead();
      return;
    }
    this.#sendPing();
  }
}
