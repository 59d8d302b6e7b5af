// Hand-maintained types for index.cjs: keep them in step with it.
import { EventEmitter } from "node:events";

export declare const PROTOCOL_VERSION: 1;

/** What berth said in its welcome. */
export interface WelcomeInfo {
  /** The container's berth id. */
  id: string;
  protocol: number;
  /** The largest frame berth accepts, in bytes (newline not counted). */
  maxFrameBytes: number;
}

export interface ReconnectOptions {
  /** Default 100. */
  initialDelayMs?: number;
  /** Default 5000. */
  maxDelayMs?: number;
  /** Default 2. */
  factor?: number;
  /** Attempts in a row before giving up; default: never give up. */
  maxAttempts?: number;
}

export interface ConnectOptions {
  /** Default: process.env.BERTH_SOCKET. */
  socketPath?: string;
  /** Any JSON, sent in the hello; berth shows it in the channel's status. */
  meta?: unknown;
  /** Connect again with back-off when berth goes away (default true). */
  reconnect?: boolean | ReconnectOptions;
  /** Where errors of message handlers and unobserved protocol errors go (default: console.error). */
  onError?: (err: unknown) => void;
}

/** Error codes: NO_SOCKET, NOT_CONNECTED, DISCONNECTED, CLOSED, TIMEOUT, UNSERIALIZABLE, FRAME_TOO_LARGE, or the code of an error frame from berth. */
export declare class BerthWorkloadError extends Error {
  readonly code: string;
  constructor(message: string, code: string);
}

export type RequestHandler<T = unknown> = (data: T) => unknown;
export type MessageHandler<T = unknown> = (data: T) => unknown;

export type WorkloadClientEvents = {
  welcome: [info: WelcomeInfo];
  disconnect: [error: BerthWorkloadError];
  protocolError: [error: BerthWorkloadError];
  close: [error: BerthWorkloadError | undefined];
};

export declare class WorkloadClient extends EventEmitter<WorkloadClientEvents> {
  constructor(options?: ConnectOptions);
  /** Resolves with berth's first welcome; rejects if the client stops before one. */
  readonly ready: Promise<WelcomeInfo>;
  /** True while a welcomed connection is up. */
  readonly connected: boolean;
  /** The latest welcome, or null before the first. */
  readonly welcome: WelcomeInfo | null;
  /** Calls `fn` for every message from berth; returns a function that stops it. */
  onMessage<T = unknown>(fn: MessageHandler<T>): () => void;
  /** Answers berth's requests; a throw or rejection becomes an error response `{ message, code? }`. */
  onRequest<T = unknown>(handler: RequestHandler<T>): this;
  /** False (dropped) when not connected; throws BerthWorkloadError for unserializable or over-size data. */
  send(data: unknown): boolean;
  /** Round trip to berth in ms. */
  ping(timeoutMs?: number): Promise<number>;
  /** Stops for good; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** @internal connect() calls it. */
  start(): this;
}

/** Connects to berth (BERTH_SOCKET) and keeps the connection up. */
export declare function connect(options?: ConnectOptions): WorkloadClient;
