import { EventEmitter } from "node:events";
import type { CallOptions } from "../src/call-options.ts";
import type { ClientCore } from "../src/client-core.ts";
import type { LiveStream } from "../src/live-stream.ts";

type Handler = (payload: never) => unknown;

/** One call the code under test made: its event, payload and options. */
export interface Call {
  event: string;
  payload: Record<string, unknown>;
  options: CallOptions;
}

/**
 * A ClientCore without a berth: `handlers` answer calls (a handler that
 * throws or rejects is berth's refusal), `push` is an event berth sends,
 * `calls` is what was asked, in order. Enough for the registries
 * (LogFollows, SharedStreams, ActivityFeed) and the handles.
 */
export class FakeCore {
  readonly socket = Object.assign(new EventEmitter(), { connected: true });
  readonly state = "connected";
  readonly requestTimeoutMs = 60_000;
  readonly info = { limits: { maxRequestTimeoutMs: 60_000 } };
  readonly calls: Call[] = [];
  readonly streams = new Set<LiveStream>();
  readonly handlers: Record<string, Handler> = {};

  assertOpen(): void {}

  track(stream: LiveStream): () => void {
    this.streams.add(stream);
    return () => this.streams.delete(stream);
  }

  call(event: string, payload: Record<string, unknown>, options: CallOptions = {}): Promise<unknown> {
    this.calls.push({ event, payload, options });
    const handler = this.handlers[event];
    if (!handler) return Promise.reject(new Error(`FakeCore: no handler for ${event}`));
    return Promise.resolve().then(() => handler(payload as never));
  }

  /** What berth pushes. */
  push(event: string, payload: unknown): void {
    this.socket.emit(event, payload);
  }

  /** The calls of `event` so far. */
  callsOf(event: string): Call[] {
    return this.calls.filter((c) => c.event === event);
  }

  /** As the registries see it. */
  get core(): ClientCore {
    return this as unknown as ClientCore;
  }
}

/** A promise with its resolve and reject, for an answer the test gives when it chooses. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
} {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
export const settle = () => new Promise<void>((r) => setImmediate(r));
