import type { LogLine } from "#protocol";
import { MAX_LOG_LINE_LENGTH, sanitizeLogLine } from "../logging/sanitize-log-line.ts";
import { parseRfc3339 } from "./rfc3339-timestamp.ts";

export interface LogLineSplitterOptions {
  /** Passed to sanitizeLogLine (default MAX_LOG_LINE_LENGTH). */
  maxLineLength?: number;
  /** Stamps a line that arrives without a timestamp (default Date.now). */
  now?: () => number;
  /**
   * Turns a whole decoded line into what a client sees; `truncated` says the
   * splitter dropped its end. Default: sanitizeLogLine. ContainerLogs passes
   * presentOutputLine, which redacts before it cuts.
   */
  present?: (raw: string, truncated: boolean) => string;
}

interface StreamState {
  stream: LogLine["stream"];
  /** A line has begun and not yet ended. */
  open: boolean;
  ts: number | undefined;
  parts: Uint8Array[];
  keptBytes: number;
  dropped: boolean;
}

/**
 * Turns the engine's multiplexed log stream (`logs` with `timestamps: true`,
 * container without a TTY — berth never gives one) into lines. Each frame is
 * an 8-byte header — byte 0 the stream (1 stdout, 2 stderr), bytes 4–7 the
 * big-endian payload length — then the payload: one log message as
 * `<RFC3339Nano> <text>`. Frames arrive split across chunks at any byte.
 *
 * A line longer than the engine's 16 KiB message buffer comes as several
 * frames, and each repeats the timestamp (seen on Docker 20.10); the splitter
 * strips the repeats and joins the pieces, per stream, until a newline. A
 * line keeps the timestamp of its first piece.
 *
 * Memory stays bounded whatever the container writes: a line keeps at most
 * 4 × maxLineLength bytes (enough that its sanitised text is cut and marked
 * anyway), the rest is dropped until its newline.
 *
 * ```ts
 * const splitter = new LogLineSplitter();
 * for await (const chunk of logStream) for (const line of splitter.push(chunk)) send(line);
 * for (const line of splitter.end()) send(line);
 * ```
 */
export class LogLineSplitter {
  readonly #maxLineLength: number;
  readonly #maxLineBytes: number;
  readonly #now: () => number;
  readonly #present: (raw: string, truncated: boolean) => string;
  readonly #header = new Uint8Array(HEADER_BYTES);
  #headerFill = 0;
  /** Payload bytes still to come for the current frame; 0 while reading a header. */
  #remaining = 0;
  #frameStream: StreamState | undefined;
  /** The start of the current frame, held until the timestamp can be read whole. */
  #head: Uint8Array | undefined;
  #headFill = 0;
  readonly #stdout: StreamState = newState("stdout");
  readonly #stderr: StreamState = newState("stderr");

  constructor(options: LogLineSplitterOptions = {}) {
    this.#maxLineLength = options.maxLineLength ?? MAX_LOG_LINE_LENGTH;
    this.#maxLineBytes = this.#maxLineLength * 4;
    this.#now = options.now ?? Date.now;
    this.#present =
      options.present ??
      ((raw, truncated) => sanitizeLogLine(raw, { maxLength: this.#maxLineLength, truncated }));
  }

  /** Feeds a chunk; returns the lines it completed, in stream order. */
  push(chunk: Uint8Array): LogLine[] {
    const lines: LogLine[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#frameStream === undefined) {
        const take = Math.min(HEADER_BYTES - this.#headerFill, chunk.length - pos);
        this.#header.set(chunk.subarray(pos, pos + take), this.#headerFill);
        this.#headerFill += take;
        pos += take;
        if (this.#headerFill === HEADER_BYTES) this.#startFrame();
        continue;
      }
      // While gathering the frame's first bytes, take no more than they need: a
      // timestamp must not be read in halves.
      const want = this.#head === undefined ? this.#remaining : this.#head.length - this.#headFill;
      const take = Math.min(want, chunk.length - pos);
      const piece = chunk.subarray(pos, pos + take);
      pos += take;
      this.#remaining -= take;
      if (this.#head !== undefined) {
        this.#head.set(piece, this.#headFill);
        this.#headFill += take;
        if (this.#headFill === this.#head.length) this.#flushHead(lines);
      } else {
        this.#payload(this.#frameStream, piece, false, lines);
      }
      if (this.#remaining === 0 && this.#head === undefined) this.#frameStream = undefined;
    }
    return lines;
  }

  /** The stream ended: returns the lines still open (output that did not end with a newline). */
  end(): LogLine[] {
    const lines: LogLine[] = [];
    if (this.#head !== undefined && this.#headFill > 0) this.#flushHead(lines, this.#headFill);
    this.#head = undefined;
    this.#frameStream = undefined;
    this.#headerFill = 0;
    this.#remaining = 0;
    for (const state of [this.#stdout, this.#stderr]) if (state.open) lines.push(this.#finish(state));
    return lines;
  }

  #startFrame(): void {
    this.#headerFill = 0;
    // 2 stderr, 3 the engine's own "systemerr"; anything else is shown as stdout.
    const type = this.#header[0];
    const state = type === 2 || type === 3 ? this.#stderr : this.#stdout;
    const length = new DataView(this.#header.buffer).getUint32(4);
    if (length === 0) return;
    this.#frameStream = state;
    this.#remaining = length;
    this.#head = new Uint8Array(Math.min(length, HEAD_BYTES));
    this.#headFill = 0;
  }

  #flushHead(lines: LogLine[], length = this.#headFill): void {
    const head = this.#head;
    const state = this.#frameStream;
    this.#head = undefined;
    if (head === undefined || state === undefined) return;
    this.#payload(state, head.subarray(0, length), true, lines);
    if (this.#remaining === 0) this.#frameStream = undefined;
  }

  #payload(state: StreamState, bytes: Uint8Array, frameStart: boolean, lines: LogLine[]): void {
    let pos = 0;
    if (frameStart) {
      const stamp = readStamp(bytes, 0);
      if (stamp !== undefined) {
        // A frame that continues an open line repeats its timestamp: skip it, keep the first.
        if (!state.open) this.#open(state, stamp.ts);
        pos = stamp.next;
      }
    }
    while (pos < bytes.length) {
      if (!state.open) this.#open(state, state.ts ?? this.#now());
      const newline = bytes.indexOf(NEWLINE, pos);
      const end = newline < 0 ? bytes.length : newline;
      this.#append(state, bytes.subarray(pos, end));
      if (newline < 0) return;
      lines.push(this.#finish(state));
      pos = newline + 1;
      // The engine sends one message per frame; should a frame hold more, each may carry its own stamp.
      const stamp = pos < bytes.length ? readStamp(bytes, pos) : undefined;
      if (stamp !== undefined) {
        this.#open(state, stamp.ts);
        pos = stamp.next;
      }
    }
  }

  #open(state: StreamState, ts: number): void {
    state.open = true;
    state.ts = ts;
  }

  #append(state: StreamState, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const room = this.#maxLineBytes - state.keptBytes;
    if (room <= 0) {
      state.dropped = true;
      return;
    }
    // Copied: a subarray would pin the whole chunk it came from while the line stays open.
    const kept = bytes.length > room ? bytes.slice(0, room) : bytes.slice();
    if (bytes.length > room) state.dropped = true;
    state.parts.push(kept);
    state.keptBytes += kept.length;
  }

  #finish(state: StreamState): LogLine {
    // Decoded only now, whole: a UTF-8 character may be split across frames.
    const decoded = Buffer.concat(state.parts, state.keptBytes).toString("utf8");
    const line: LogLine = {
      stream: state.stream,
      ts: state.ts ?? this.#now(),
      text: this.#present(decoded, state.dropped),
    };
    state.open = false;
    state.parts = [];
    state.keptBytes = 0;
    state.dropped = false;
    return line;
  }
}

const HEADER_BYTES = 8;
/** Room for the longest RFC 3339 stamp (`…T15:04:05.999999999+07:00`, 35 bytes) and its space. */
const HEAD_BYTES = 40;
const NEWLINE = 0x0a;
const SPACE = 0x20;

function newState(stream: StreamState["stream"]): StreamState {
  return { stream, open: false, ts: undefined, parts: [], keptBytes: 0, dropped: false };
}

/** A timestamp and its space at `at`, within the next HEAD_BYTES bytes. */
function readStamp(bytes: Uint8Array, at: number): { ts: number; next: number } | undefined {
  const limit = Math.min(bytes.length, at + HEAD_BYTES);
  for (let i = at; i < limit; i++) {
    if (bytes[i] !== SPACE) continue;
    const ts = parseRfc3339(bytes, at, i);
    return ts === undefined ? undefined : { ts, next: i + 1 };
  }
  return undefined;
}
