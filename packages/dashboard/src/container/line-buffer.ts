import type { LogLine } from "@berth/client";

/**
 * How many lines of output the page keeps: the newest 2,000 shown, and as many
 * again held while paused. berth caps a line at 16,384 characters, so the
 * worst case stays near 128 MiB of text and the usual (lines of ~100
 * characters) under 1 MiB — enough to scroll back through, bounded for a tab
 * left open on a chatty workload for days.
 */
export const KEEP_LINES = 2_000;

/** A line of output as the page holds it: `seq` numbers lines in the order they came (a stable key). */
export interface OutputLine extends LogLine {
  seq: number;
}

/**
 * The output the page shows, bounded: the newest `keep` lines. While paused,
 * new lines are held (the newest `keep` of them) and counted — every one
 * that came, also those the bound let go — and resume shows them.
 *
 * @example
 *   const buffer = new LineBuffer();
 *   buffer.push(line);
 *   buffer.pause();
 *   buffer.push(next); // buffer.held === 1, not in buffer.lines
 *   buffer.resume(); // next is shown
 *   buffer.matching("error"); // the lines shown whose text contains "error", in any case
 */
export class LineBuffer {
  readonly keep: number;
  #lines: OutputLine[] = [];
  #held: OutputLine[] = [];
  #heldCount = 0;
  #paused = false;
  #seq = 0;
  /** Lines shown once and let go since, to keep the bound. */
  #dropped = 0;

  constructor(keep = KEEP_LINES) {
    if (!Number.isInteger(keep) || keep < 1)
      throw new RangeError("keep must be a whole number of at least 1");
    this.keep = keep;
  }

  /** The lines shown, oldest first. */
  get lines(): readonly OutputLine[] {
    return this.#lines;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** How many lines came since the pause (shown on resume, up to `keep` of them). */
  get held(): number {
    return this.#heldCount;
  }

  /** How many lines, shown or held, the bound let go. */
  get dropped(): number {
    return this.#dropped;
  }

  push(line: LogLine): void {
    const held: OutputLine = { stream: line.stream, ts: line.ts, text: line.text, seq: ++this.#seq };
    if (this.#paused) {
      this.#heldCount++;
      this.#held.push(held);
      this.#dropped += trim(this.#held, this.keep);
    } else {
      this.#lines.push(held);
      this.#dropped += trim(this.#lines, this.keep);
    }
  }

  pause(): void {
    this.#paused = true;
  }

  /** Shows the held lines after those shown; the oldest go when both together pass the bound. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#lines.push(...this.#held);
    this.#held = [];
    this.#heldCount = 0;
    this.#dropped += trim(this.#lines, this.keep);
  }

  /** Forgets every line, shown and held (the count of those let go too). */
  clear(): void {
    this.#lines = [];
    this.#held = [];
    this.#heldCount = 0;
    this.#dropped = 0;
  }

  /** The lines shown whose text contains `query`, ignoring case; all of them for an empty query. */
  matching(query: string): OutputLine[] {
    if (query === "") return [...this.#lines];
    const needle = query.toLowerCase();
    return this.#lines.filter((line) => line.text.toLowerCase().includes(needle));
  }
}

/** Removes the oldest entries beyond `keep`; returns how many went. */
function trim(lines: OutputLine[], keep: number): number {
  const over = lines.length - keep;
  if (over <= 0) return 0;
  lines.splice(0, over);
  return over;
}
