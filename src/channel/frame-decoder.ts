const NEWLINE = 0x0a;

export interface FrameDecoderHandlers {
  /** One complete line, without its newline, decoded as UTF-8. Empty lines are skipped. */
  onLine(line: string): void;
  /** A line longer than the limit was discarded up to (and including) its newline. */
  onOversize(bytes: number): void;
}

/**
 * Splits a byte stream into newline-delimited frames of at most `maxFrameBytes`
 * each (the newline not counted). It never holds more than the limit of an
 * unfinished line: once a line outgrows it, the bytes are dropped as they
 * arrive until the next newline, so a peer that never sends one costs nothing.
 *
 * Lines that sit inside one chunk are decoded straight from it (no copy); only
 * a line split across chunks is joined.
 */
export class FrameDecoder {
  readonly #max: number;
  readonly #handlers: FrameDecoderHandlers;
  #parts: Buffer[] = [];
  #partBytes = 0;
  /** Bytes of an over-size line dropped so far; -1 when not discarding. */
  #discarded = -1;

  constructor(maxFrameBytes: number, handlers: FrameDecoderHandlers) {
    this.#max = maxFrameBytes;
    this.#handlers = handlers;
  }

  /** Bytes held for an unfinished line (for tests and status). */
  get bufferedBytes(): number {
    return this.#partBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    const end = chunk.length;
    while (start < end) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.#keep(chunk, start, end);
        return;
      }
      if (this.#discarded >= 0) {
        const bytes = this.#discarded + (nl - start);
        this.#discarded = -1;
        this.#handlers.onOversize(bytes);
      } else if (this.#partBytes > 0) {
        this.#finishSplitLine(chunk, start, nl);
      } else if (nl - start > this.#max) {
        this.#handlers.onOversize(nl - start);
      } else if (nl > start) {
        this.#handlers.onLine(chunk.toString("utf8", start, nl));
      }
      start = nl + 1;
    }
  }

  /** Forgets any unfinished line (the connection is gone). */
  reset(): void {
    this.#parts = [];
    this.#partBytes = 0;
    this.#discarded = -1;
  }

  #keep(chunk: Buffer, start: number, end: number): void {
    const bytes = end - start;
    if (this.#discarded >= 0) {
      this.#discarded += bytes;
    } else if (this.#partBytes + bytes > this.#max) {
      this.#discarded = this.#partBytes + bytes;
      this.#parts = [];
      this.#partBytes = 0;
    } else {
      // Copy: a subarray would pin the chunk's whole backing store (64 KiB) for a few bytes.
      this.#parts.push(Buffer.from(chunk.subarray(start, end)));
      this.#partBytes += bytes;
    }
  }

  #finishSplitLine(chunk: Buffer, start: number, nl: number): void {
    const total = this.#partBytes + (nl - start);
    const parts = this.#parts;
    this.#parts = [];
    this.#partBytes = 0;
    if (total > this.#max) {
      this.#handlers.onOversize(total);
      return;
    }
    parts.push(chunk.subarray(start, nl));
    this.#handlers.onLine(Buffer.concat(parts, total).toString("utf8"));
  }
}
