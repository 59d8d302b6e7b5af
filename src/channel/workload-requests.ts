import { WorkloadError } from "./channel-errors.ts";
import type { ContainerTraffic } from "./channel-observer.ts";
import { InFlightCalls } from "./in-flight-calls.ts";

/** How an answer to a request ended: it settled its request, came after it ended, or answered nothing berth asked. */
export type AnswerOutcome = "settled" | "late" | "unknown";

/**
 * The requests berth makes of one workload and their answers. Request ids
 * are a counter in decimal: short, and a stray id is told from a late one by
 * its value (a late one was issued; a stray one never was).
 */
export class WorkloadRequests {
  readonly #calls: InFlightCalls;
  readonly #traffic: ContainerTraffic | undefined;
  #seq = 0;

  constructor(traffic?: ContainerTraffic) {
    this.#traffic = traffic;
    // Requests are timed where they end, from the send time the call keeps anyway: nothing extra per request.
    this.#calls = new InFlightCalls(traffic);
  }

  get size(): number {
    return this.#calls.size;
  }

  /** The id the next request will have; it is taken only when the request is added. */
  nextId(): string {
    return String(this.#seq + 1);
  }

  /** Adds the request with the id `nextId` gave, sent by `send`; settles with its answer. */
  add(id: string, timeoutMs: number, signal: AbortSignal | undefined, send: () => void): Promise<unknown> {
    this.#seq++;
    return this.#calls.add(id, timeoutMs, signal, send);
  }

  /** A request refused before it was sent: counted as ended, and the caller's promise rejected. */
  refuse(err: unknown): Promise<never> {
    this.#traffic?.requestEnded(0, err);
    return Promise.reject(err);
  }

  /** Settles the request `id` with the workload's answer (its data, or its error). */
  answer(id: string, data: unknown, error: { message: string; code?: string } | undefined): AnswerOutcome {
    const settled =
      error === undefined ? this.#calls.resolve(id, data) : this.#calls.fail(id, new WorkloadError(error));
    if (settled) return "settled";
    return this.#wasIssued(id) ? "late" : "unknown";
  }

  fail(id: string, err: Error): boolean {
    return this.#calls.fail(id, err);
  }

  /** Fails every request waiting (the connection is gone). */
  failAll(makeError: () => Error): void {
    this.#calls.failAll(makeError);
  }

  #wasIssued(id: string): boolean {
    const n = Number(id);
    return Number.isSafeInteger(n) && n >= 1 && n <= this.#seq && String(n) === id;
  }
}
