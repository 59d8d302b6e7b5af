import type { EventQueue } from "./event-queue.ts";
import type { LogLine } from "./protocol/index.ts";

/** What a fetch read since a time (a resume): every line from `since` on, as far as berth gave them. */
export interface SinceRead {
  lines: LogLine[];
  since: number;
}

const keyOf = (line: LogLine) => `${line.ts}\u0000${line.stream}\u0000${line.text}`;

function take(counts: Map<string, number>, key: string): boolean {
  const n = counts.get(key);
  if (!n) return false;
  if (n === 1) counts.delete(key);
  else counts.set(key, n - 1);
  return true;
}

function add(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/**
 * One `followLogs()` iterator: the lines it has given, so that joining a
 * follow and resuming one after a reconnect gives no line twice and misses
 * none. Each (re)start runs `sync(fetch)`: the live follow is already open
 * (its lines wait here), `fetch` reads what came before from
 * `container:logs` (the tail, or everything since the last line given), and
 * the lines in both are given once — lines are told apart by time, stream
 * and text, counted, so that identical lines in the same millisecond all
 * come through.
 */
export class LogStream {
  readonly queue: EventQueue<LogLine>;
  /** The time of the newest line given, and how many of each line were given at that time. */
  #lastTs = Number.NEGATIVE_INFINITY;
  #atLastTs = new Map<string, number>();
  #syncing = false;
  #live: LogLine[] = [];
  /** Lines the last fetch gave, which the live follow may give again. */
  #overlap = new Map<string, number>();
  #overlapUntil = Number.NEGATIVE_INFINITY;
  /** Live lines older than this are not given: what the last fetch left out on purpose. */
  #dropBefore = Number.NEGATIVE_INFINITY;
  /** Whether the follow was opened again since this stream began (then two engine follows may overlap). */
  #reopened = false;
  #synced = false;

  /** The tail still to read: the first sync's, until one has succeeded. */
  tail: number;

  constructor(queue: EventQueue<LogLine>, tail = 0) {
    this.queue = queue;
    this.tail = tail;
  }

  /** The time of the newest line given, if any. */
  get lastTs(): number | undefined {
    return Number.isFinite(this.#lastTs) ? this.#lastTs : undefined;
  }

  /** A line of the live follow. */
  onLive(line: LogLine): void {
    if (this.#syncing) {
      // Bounded like the queue: a fetch that takes long while lines pour in keeps the newest.
      this.#live.push(line);
      if (this.#live.length > 10_000) this.#live.shift();
      return;
    }
    this.#giveLive(line);
  }

  /**
   * Holds live lines while `fetch` reads the lines before them, gives each line once, then goes live again.
   * `fetch` gives a tail (the lines) or what came since a time (`{ lines, since }`).
   */
  async sync(fetch: () => Promise<LogLine[] | SinceRead>): Promise<void> {
    this.#syncing = true;
    this.#reopened ||= this.#synced;
    this.#synced = true;
    try {
      const read = await fetch();
      const lines = Array.isArray(read) ? read : read.lines;
      this.tail = 0;
      this.#overlap.clear();
      this.#overlapUntil = Number.NEGATIVE_INFINITY;
      // What was given before this fetch, apart from what this fetch gives: three identical
      // lines in one millisecond must not be taken for one line given three times.
      const givenUntil = this.#lastTs;
      const givenAtLast = new Map(this.#atLastTs);
      for (const line of lines) {
        if (line.ts < givenUntil) continue;
        const key = keyOf(line);
        // Given before, or now: either way the live follow may bring it again.
        add(this.#overlap, key);
        this.#overlapUntil = Math.max(this.#overlapUntil, line.ts);
        if (line.ts === givenUntil && take(givenAtLast, key)) continue;
        this.#give(line, key);
      }
      // A tail left out every line older than its oldest on purpose: a late live line older than the
      // newest fetched is one of those (given, it would come out of order: 44, 43, 45 with tail 1).
      // A read since a time left out nothing after it: docker writes stdout and stderr from separate
      // goroutines, so a stderr line stamped 9 can reach the log after a read whose newest is 10 — a
      // real line, given (order across stdout and stderr is the engine's).
      this.#dropBefore = Array.isArray(read) ? this.#overlapUntil : read.since;
    } finally {
      this.#syncing = false;
      const live = this.#live;
      this.#live = [];
      for (const line of live) this.#giveLive(line);
    }
  }

  #giveLive(line: LogLine): void {
    const key = keyOf(line);
    if (line.ts <= this.#overlapUntil && take(this.#overlap, key)) return;
    // A line the last fetch left out on purpose (see sync): the engine's follow can still push one
    // written while it was being opened, after the fetch's answer.
    if (line.ts < this.#dropBefore) return;
    // After a reopen berth may run two engine follows for a moment (the old one not yet ended), and a
    // line both carry comes twice: at the newest time given, a line already given then is not given
    // again. The cost, paid only once the follow was reopened: a line the container writes twice in
    // one millisecond comes through once while live.
    if (this.#reopened && line.ts === this.#lastTs && this.#atLastTs.has(key)) return;
    if (line.ts > this.#overlapUntil && this.#overlap.size > 0) this.#overlap.clear();
    this.#give(line, key);
  }

  #give(line: LogLine, key: string): void {
    if (line.ts > this.#lastTs) {
      this.#lastTs = line.ts;
      this.#atLastTs.clear();
    }
    add(this.#atLastTs, key);
    this.queue.push({ stream: line.stream, ts: line.ts, text: line.text });
  }
}
