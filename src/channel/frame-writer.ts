import type { Socket } from "node:net";
import { ValidationError } from "../errors/errors.ts";
import { ChannelBusyError, FrameTooLargeError } from "./channel-errors.ts";
import type { ContainerTraffic } from "./channel-observer.ts";

/** How long a queue over its bound may go without the workload taking anything before berth refuses more. */
export const STALL_MS = 500;

/**
 * Lines at least this long are encoded to a Buffer before they are written.
 * Node.js writes a long string to a socket through a slow path (it measures
 * its UTF-8 length, then copies it into a fresh backing store): for a 64 KiB
 * frame, that cost about six times what Buffer.from() does (bench: channel).
 */
export const ENCODE_ABOVE_CHARS = 16 * 1024;

/**
 * The outbound side of one connection: serializes, enforces the frame limit
 * and the bound on what may wait in the socket's queue, and batches writes.
 *
 * The bound has two levels. Up to `maxQueuedBytes` anything is taken. Above
 * it, more is taken only while the workload keeps reading — a write completed
 * within the last STALL_MS — and never beyond four times the bound: a burst of
 * large requests to a workload that is busy but alive is queued, not refused,
 * while a workload that stopped reading gets CHANNEL_BUSY and no more memory.
 */
export class FrameWriter {
  readonly #socket: Socket;
  readonly #maxFrameBytes: number;
  readonly #maxQueuedBytes: number;
  readonly #uncork: () => void;
  readonly #progressed = () => {
    this.#lastProgressAt = Date.now();
  };
  readonly #traffic: ContainerTraffic | undefined;
  #corked = false;
  #lastProgressAt = Date.now();

  constructor(socket: Socket, maxFrameBytes: number, maxQueuedBytes: number, traffic?: ContainerTraffic) {
    this.#socket = socket;
    this.#traffic = traffic;
    this.#maxFrameBytes = maxFrameBytes;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#uncork = () => {
      this.#corked = false;
      this.#socket.uncork();
    };
  }

  /** The JSON text of `data`; undefined (or a function) has no JSON form and travels as null. */
  static serialize(data: unknown): string {
    try {
      return JSON.stringify(data) ?? "null";
    } catch (err) {
      throw new ValidationError("The data cannot be sent as JSON (a cycle or a BigInt?).", { cause: err });
    }
  }

  /** Throws FRAME_TOO_LARGE or CHANNEL_BUSY when `line` may not be written now. */
  check(line: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes: short lines need no byte count.
    if ((line.length - 1) * 3 > this.#maxFrameBytes) {
      const bytes = Buffer.byteLength(line) - 1;
      if (bytes > this.#maxFrameBytes) throw new FrameTooLargeError(bytes, this.#maxFrameBytes);
    }
    // The socket counts queued strings in characters and Buffers (long frames) in bytes: close enough for a bound.
    // An empty queue always takes one frame, so a frame of the maximum size can always be sent.
    const queued = this.#socket.writableLength;
    if (queued === 0 || queued + line.length <= this.#maxQueuedBytes) return;
    const hard = 4 * this.#maxQueuedBytes;
    if (queued + line.length > hard) throw new ChannelBusyError(queued, hard);
    if (Date.now() - this.#lastProgressAt > STALL_MS)
      throw new ChannelBusyError(queued, this.#maxQueuedBytes);
  }

  /**
   * Writes within one tick are corked and leave in one writev when the tick
   * ends: many requests issued together (or answers to a batch of pings) cost
   * one system call instead of one each.
   */
  write(line: string, cb?: (err?: Error | null) => void): void {
    // An idle connection has not stalled: a burst after a quiet spell counts from its first frame.
    if (this.#socket.writableLength === 0) this.#lastProgressAt = Date.now();
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(this.#uncork);
    }
    const chunk = line.length >= ENCODE_ABOVE_CHARS ? Buffer.from(line) : line;
    // Only when measured: counting a string's UTF-8 bytes is a pass over it.
    if (this.#traffic !== undefined)
      this.#traffic.sent(typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length);
    this.#socket.write(
      chunk,
      cb
        ? (err) => {
            if (!err) this.#lastProgressAt = Date.now();
            cb(err);
          }
        : this.#progressed,
    );
  }

  /** Writes a frame of berth's own unless the queue is full: a peer that does not read gets no more. */
  writeIfRoom(line: string): void {
    if (this.#socket.writableLength + line.length <= this.#maxQueuedBytes) this.write(line);
  }

  /** Sends what is corked now (before an end()). */
  flush(): void {
    if (this.#corked) this.#uncork();
  }
}
