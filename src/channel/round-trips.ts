import { InFlightCalls } from "./in-flight-calls.ts";
import { encodePing } from "./protocol.ts";

/**
 * The pings of one connection — those a caller asked for and the heartbeat's
 * — and the round trip the last answered one measured. Ping ids are one
 * counter (`p1`, `h2`, …): a pong is told apart by its id alone.
 */
export class RoundTrips {
  readonly #pings = new InFlightCalls();
  #seq = 0;
  #heartbeatId = "";
  #heartbeatSentAt = 0;
  #rttMs: number | undefined;

  /** The last measured round trip in ms (heartbeat or ping). */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** A new ping for a caller: its id and its frame. */
  next(): { id: string; line: string } {
    const id = `p${++this.#seq}`;
    return { id, line: encodePing(id) };
  }

  /** Waits for the pong to `id` (sent by `send`); resolves with the round trip in ms. */
  wait(id: string, timeoutMs: number, send: () => void): Promise<number> {
    return this.#pings.add(id, timeoutMs, undefined, send) as Promise<number>;
  }

  /** The heartbeat's ping frame; only its latest is waited for, without a timer (the Heartbeat judges silence). */
  heartbeat(): string {
    this.#heartbeatId = `h${++this.#seq}`;
    this.#heartbeatSentAt = performance.now();
    return encodePing(this.#heartbeatId);
  }

  /** True when the pong answered a ping in flight; an unknown pong answers one that timed out: harmless. */
  answered(id: string): boolean {
    if (id === this.#heartbeatId) {
      this.#rttMs = performance.now() - this.#heartbeatSentAt;
      this.#heartbeatId = "";
      return true;
    }
    const rtt = this.#pings.resolveWithRtt(id);
    if (rtt === undefined) return false;
    this.#rttMs = rtt;
    return true;
  }

  /** Fails every ping waiting (the connection is gone). */
  failAll(makeError: () => Error): void {
    this.#pings.failAll(makeError);
  }
}
