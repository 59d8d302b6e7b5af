import { jsonTextTooDeep, MAX_JSON_DEPTH } from "../util/json-depth.ts";
import { checkHello, type HelloCheck, MAX_FRAME_DEPTH, type ProtocolErrorCode } from "./protocol.ts";

/**
 * One line from a workload that has completed its handshake, read: what it
 * is, or why it is refused. Nothing here acts on it; WorkloadConnection does.
 */
export type ReadFrame =
  | {
      type: "response";
      id: string;
      /** null when the workload sent none. */
      data: unknown;
      /** The workload's failure, when it answered with one instead of data. */
      error: { message: string; code?: string } | undefined;
    }
  | { type: "message"; data: unknown }
  | { type: "ping"; id: string }
  /** `id` undefined: a pong berth cannot have asked for (it is charged as sent unasked, not refused). */
  | { type: "pong"; id: string | undefined }
  /**
   * Nested deeper than any client may receive: dropped before a byte of it
   * goes on. `responseId` names the request it answered, which ends at once
   * (as the workload's error) rather than at its timeout.
   */
  | { type: "too_deep"; message: string; responseId: string | undefined }
  | {
      type: "bad";
      code: ProtocolErrorCode;
      message: string;
      about: { id?: string; type?: string };
      /** It claimed to answer berth (a response without a usable id): not charged as sent unasked. */
      answer: boolean;
    };

/** Reads one line of a ready connection. */
export function readWorkloadFrame(line: string): ReadFrame {
  if (jsonTextTooDeep(line, MAX_FRAME_DEPTH)) return tooDeep(line);
  let frame: Record<string, unknown>;
  try {
    frame = JSON.parse(line);
  } catch {
    return bad("BAD_FRAME", "The frame is not valid JSON.");
  }
  if (typeof frame !== "object" || frame === null || typeof frame.type !== "string") {
    return bad("BAD_FRAME", "A frame must be a JSON object with a string type.");
  }
  switch (frame.type) {
    case "response":
      return readResponse(frame);
    case "message":
      return { type: "message", data: frame.data === undefined ? null : frame.data };
    case "ping":
      return typeof frame.id === "string"
        ? { type: "ping", id: frame.id }
        : bad("BAD_FRAME", "ping.id must be a string.");
    case "pong":
      return { type: "pong", id: typeof frame.id === "string" ? frame.id : undefined };
    case "hello":
      return bad("BAD_FRAME", "hello was already received on this connection.");
    default:
      return bad("UNKNOWN_TYPE", "A workload may send hello, message, response, ping or pong.", {
        type: frame.type.slice(0, 32),
      });
  }
}

/** Reads the first line of a connection, which must be a hello; one too deep to pass on (its meta reaches clients) is none. */
export function readHello(line: string): HelloCheck {
  let value: unknown;
  try {
    value = jsonTextTooDeep(line, MAX_FRAME_DEPTH) ? undefined : JSON.parse(line);
  } catch {
    value = undefined;
  }
  return checkHello(value);
}

function readResponse(frame: Record<string, unknown>): ReadFrame {
  const id = frame.id;
  if (typeof id !== "string") return { ...bad("BAD_FRAME", "response.id must be a string."), answer: true };
  const data = frame.data === undefined ? null : frame.data;
  const error = frame.error as { message?: unknown; code?: unknown } | null | undefined;
  if (error === undefined || error === null) return { type: "response", id, data, error: undefined };
  const message =
    typeof error.message === "string" ? error.message : "The workload sent an error without a message.";
  const code = typeof error.code === "string" ? error.code : undefined;
  return { type: "response", id, data, error: code === undefined ? { message } : { message, code } };
}

/** The parse that finds a too-deep response's id is safe: V8's JSON.parse does not recurse. */
function tooDeep(line: string): ReadFrame {
  const message = `A frame's data may nest at most ${MAX_JSON_DEPTH} levels deep.`;
  let id: unknown;
  try {
    const frame = JSON.parse(line) as { type?: unknown; id?: unknown };
    if (frame.type === "response") id = frame.id;
  } catch {
    // Not JSON either: a bad frame all the same.
  }
  return { type: "too_deep", message, responseId: typeof id === "string" ? id : undefined };
}

function bad(code: ProtocolErrorCode, message: string, about: { type?: string } = {}) {
  return { type: "bad" as const, code, message, about, answer: false };
}
