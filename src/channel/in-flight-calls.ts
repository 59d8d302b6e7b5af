import { ChannelTimeoutError } from "./channel-errors.ts";
import type { ContainerTraffic } from "./channel-observer.ts";

/** One call waiting for its answer (a request's response or a ping's pong). */
interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  timeoutMs: number;
  /** performance.now() when sent: a ping's round trip is measured from here. */
  sentAt: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * The calls of one connection that wait for an answer, keyed by the id berth
 * gave them. Every call has exactly one timer, and every way out — answer,
 * timeout, abort, disconnect — clears it and forgets the call, so nothing
 * outlives the connection. With `traffic`, each call's end is reported
 * there with its latency (requests; pings are not reported).
 */
export class InFlightCalls {
  readonly #calls = new Map<string, PendingCall>();
  readonly #traffic: ContainerTraffic | undefined;

  constructor(traffic?: ContainerTraffic) {
    this.#traffic = traffic;
  }

  get size(): number {
    return this.#calls.size;
  }

  has(id: string): boolean {
    return this.#calls.has(id);
  }

  /** Registers a call; `send` runs after, so an answer can never arrive before the call is known. */
  add(id: string, timeoutMs: number, signal: AbortSignal | undefined, send: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const call: PendingCall = {
        resolve,
        reject,
        // Arguments instead of a closure: one less allocation per call.
        timer: setTimeout(expire, timeoutMs, this, id),
        timeoutMs,
        sentAt: performance.now(),
        signal,
        onAbort: undefined,
      };
      if (signal !== undefined) {
        call.onAbort = () =>
          this.fail(id, signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      this.#calls.set(id, call);
      try {
        send();
      } catch (err) {
        this.fail(id, err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Settles a call with its answer; false when no such call waits (late or never sent). */
  resolve(id: string, value: unknown): boolean {
    const call = this.#take(id);
    if (call === undefined) return false;
    this.#traffic?.requestEnded((performance.now() - call.sentAt) / 1000, undefined);
    call.resolve(value);
    return true;
  }

  /** Settles a ping with its round-trip time in ms. */
  resolveWithRtt(id: string): number | undefined {
    const call = this.#take(id);
    if (call === undefined) return undefined;
    const rtt = performance.now() - call.sentAt;
    call.resolve(rtt);
    return rtt;
  }

  fail(id: string, err: Error): boolean {
    const call = this.#take(id);
    if (call === undefined) return false;
    this.#traffic?.requestEnded((performance.now() - call.sentAt) / 1000, err);
    call.reject(err);
    return true;
  }

  /** Fails every call (the connection is gone), each with an error of its own from `makeError`. */
  failAll(makeError: () => Error): void {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const call of calls) {
      release(call);
      const err = makeError();
      this.#traffic?.requestEnded((performance.now() - call.sentAt) / 1000, err);
      call.reject(err);
    }
  }

  #take(id: string): PendingCall | undefined {
    const call = this.#calls.get(id);
    if (call === undefined) return undefined;
    this.#calls.delete(id);
    release(call);
    return call;
  }

  /** Called by the call's timer only. */
  expireCall(id: string): void {
    const call = this.#calls.get(id);
    if (call === undefined) return;
    this.#calls.delete(id);
    if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
    const err = new ChannelTimeoutError(call.timeoutMs);
    this.#traffic?.requestEnded((performance.now() - call.sentAt) / 1000, err);
    call.reject(err);
  }
}

function release(call: PendingCall): void {
  clearTimeout(call.timer);
  if (call.onAbort !== undefined) call.signal?.removeEventListener("abort", call.onAbort);
}

function expire(calls: InFlightCalls, id: string): void {
  calls.expireCall(id);
}
