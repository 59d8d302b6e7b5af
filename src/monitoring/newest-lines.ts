import type { LogLine } from "#protocol";

/**
 * The newest lines of a log read that fit in a byte budget, kept as they
 * come: older lines leave as newer ones arrive, so that memory stays within
 * the budget however much the engine sends, and what is kept is what a
 * reader of a tail wants — its end. A line's size is that of its JSON
 * encoding (what goes on the wire), plus one for the separator.
 *
 * ```ts
 * const newest = new NewestLines(4 * 1024 * 1024);
 * newest.add(splitter.push(chunk)); // for each chunk
 * const { lines, truncated } = newest.result();
 * ```
 */
export class NewestLines {
  readonly #maxBytes: number;
  #lines: LogLine[] = [];
  #sizes: number[] = [];
  /** Index of the oldest line still kept (older ones are left for compaction). */
  #first = 0;
  #bytes = 0;
  #truncated = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  add(lines: readonly LogLine[]): void {
    for (const line of lines) {
      const size = Buffer.byteLength(JSON.stringify(line)) + 1;
      this.#lines.push(line);
      this.#sizes.push(size);
      this.#bytes += size;
      while (this.#bytes > this.#maxBytes && this.#first < this.#lines.length) {
        this.#bytes -= this.#sizes[this.#first]!;
        this.#first++;
        this.#truncated = true;
      }
    }
    // Compacted now and then rather than shifted line by line (which is linear each time).
    if (this.#first > 1024 && this.#first * 2 > this.#lines.length) {
      this.#lines = this.#lines.slice(this.#first);
      this.#sizes = this.#sizes.slice(this.#first);
      this.#first = 0;
    }
  }

  /** The lines kept, oldest first; `truncated` when older lines were left out for the budget. */
  result(): { lines: LogLine[]; truncated: boolean } {
    return { lines: this.#lines.slice(this.#first), truncated: this.#truncated };
  }
}
