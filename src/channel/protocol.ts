import { CHANNEL_PROTOCOL_VERSION } from "#protocol";
import { MAX_JSON_DEPTH } from "../util/json-depth.ts";

/**
 * The wire contract between berth and the process inside a container, written
 * once: newline-delimited JSON over one Unix stream socket. docs/protocol.md
 * describes the same frames for workload authors; the workload SDK
 * (packages/workload) speaks them from the other side. Its version is the
 * contract's (CHANNEL_PROTOCOL_VERSION), which `server:info` reports too.
 */
export const PROTOCOL_VERSION = CHANNEL_PROTOCOL_VERSION;

/**
 * How deep a frame may nest: its own object plus data of at most
 * MAX_JSON_DEPTH levels, as a client's data may. Checked on the text before it
 * is parsed: deeper data would overflow the stack of whatever walks it next
 * (Socket.IO's encoder on the way to a client, JSON.stringify).
 */
export const MAX_FRAME_DEPTH = MAX_JSON_DEPTH + 1;

/** Codes a workload can find in an `error` frame from berth (not berth's client-facing registry). */
export const PROTOCOL_ERROR_CODES = [
  "BAD_HELLO",
  "PROTOCOL_MISMATCH",
  "HELLO_TIMEOUT",
  "BAD_FRAME",
  "FRAME_TOO_LARGE",
  "UNKNOWN_TYPE",
  "UNKNOWN_REQUEST",
  "TOO_MANY_BAD_FRAMES",
  "REPLACED",
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

// workload → berth
export interface HelloFrame {
  type: "hello";
  protocol: number;
  meta?: unknown;
}
export interface ResponseFrame {
  type: "response";
  id: string;
  data?: unknown;
  error?: { message: string; code?: string };
}

// berth → workload
export interface WelcomeFrame {
  type: "welcome";
  protocol: typeof PROTOCOL_VERSION;
  id: string;
  maxFrameBytes: number;
}
export interface ErrorFrame {
  type: "error";
  code: ProtocolErrorCode;
  message: string;
  /** The id of the frame this error is about, when it had one. */
  id?: string;
}
export interface RequestFrame {
  type: "request";
  id: string;
  data: unknown;
}

// both ways
export interface MessageFrame {
  type: "message";
  data: unknown;
}
export interface PingFrame {
  type: "ping";
  id: string;
}
export interface PongFrame {
  type: "pong";
  id: string;
}

export type WorkloadFrame = HelloFrame | MessageFrame | ResponseFrame | PingFrame | PongFrame;
export type BerthFrame = WelcomeFrame | ErrorFrame | MessageFrame | RequestFrame | PingFrame | PongFrame;

/**
 * The encoders build each line by hand around one JSON.stringify of the
 * payload: no wrapper object per frame on the hot path. Every line ends in
 * "\n". `json` is already-serialized JSON; ids are berth's own or were checked
 * to be strings, so JSON.stringify quotes them safely.
 */
export function encodeRequest(id: string, json: string): string {
  return `{"type":"request","id":"${id}","data":${json}}\n`;
}

export function encodeMessage(json: string): string {
  return `{"type":"message","data":${json}}\n`;
}

export function encodePing(id: string): string {
  return `{"type":"ping","id":"${id}"}\n`;
}

export function encodePong(id: string): string {
  return `{"type":"pong","id":${JSON.stringify(id)}}\n`;
}

export function encodeFrame(frame: BerthFrame): string {
  return `${JSON.stringify(frame)}\n`;
}

/** Why a hello was refused: the `bad_hello` event's reason. */
export type BadHelloReason = "invalid_hello" | "protocol_mismatch" | "hello_timeout";

export type HelloCheck =
  | { ok: true; hello: HelloFrame }
  | { ok: false; reason: BadHelloReason; code: ProtocolErrorCode; message: string };

/** Checks the first frame of a connection. Unknown extra fields are allowed, for later minor additions. */
export function checkHello(value: unknown): HelloCheck {
  if (typeof value !== "object" || value === null || (value as { type?: unknown }).type !== "hello") {
    return bad("invalid_hello", "BAD_HELLO", 'The first frame must be {"type":"hello","protocol":1}.');
  }
  const frame = value as { protocol?: unknown; meta?: unknown };
  if (typeof frame.protocol !== "number") {
    return bad("invalid_hello", "BAD_HELLO", "hello.protocol must be a number.");
  }
  if (frame.protocol !== PROTOCOL_VERSION) {
    return bad(
      "protocol_mismatch",
      "PROTOCOL_MISMATCH",
      `berth speaks protocol ${PROTOCOL_VERSION}, the workload asked for ${frame.protocol}.`,
    );
  }
  const hello: HelloFrame = { type: "hello", protocol: frame.protocol };
  if (frame.meta !== undefined) hello.meta = frame.meta;
  return { ok: true, hello };
}

function bad(reason: BadHelloReason, code: ProtocolErrorCode, message: string): HelloCheck {
  return { ok: false, reason, code, message };
}
