import type { EventQueue } from "./event-queue.ts";
import type { LogLine } from "./protocol/index.ts";

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

  /** Holds live lines while `fetch` reads the lines before them, gives each line once, then goes live again. */
  async sync(fetch: () => Promise<LogLine[]>): Promise<void> {
    this.#syncing = true;
    try {
      const lines = await fetch();
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
        if (line.ts === givenUntil && take(givenAtLast, key)) continue;
        add(this.#overlap, key);
        this.#overlapUntil = Math.max(this.#overlapUntil, line.ts);
        this.#give(line, key);
      }
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
    // Older than the newest line the last fetch read, and not among what it read: a line the fetch
    // left out on purpose (older than the tail asked for). The engine's follow can still push one
    // written while it was being opened, after the tail's answer; given, it would be out of order.
    if (line.ts < this.#overlapUntil) return;
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
