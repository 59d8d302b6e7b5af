import { z } from "zod";
import { MAX_CALL_ID_LENGTH } from "./channel-ops.ts";

/**
 * The channel lane: a plain WebSocket beside an agent's Socket.IO link, for
 * the hot traffic of workload channels only — a client's request to a
 * workload and its answer, messages, and the agent's channel pushes.
 *
 * Why a second connection: on the link, every call costs Socket.IO's packet
 * layers on both sides (engine.io framing, the parser's walk of the arguments
 * for binary parts, ack bookkeeping), which is most of what the agent's hop
 * adds to a request's round trip. The lane carries the same envelopes, checked
 * by the same code, as small JSON arrays in WebSocket text frames.
 *
 * How an agent gets one: once its link is let in (its node's credential
 * checked), the API server offers a lane — a `lane` event with a one-time
 * token (256 random bits, good for LANE_TOKEN_TTL_MS, for that connection
 * only) — and the agent opens LANE_PATH on the same server with the token in
 * its `Authorization` header. The lane lives only as long as the link: either
 * one ending ends it. Everything else (engine calls, files, usage, networks,
 * leases, the engine's pushes) stays on the link, and channel calls go on the
 * link whenever no lane is open (an older agent, a refused upgrade, a lane
 * that closed): the lane is an optimisation, never a second way in.
 *
 * Frames (JSON arrays; anything else is a broken peer, and its lane is closed):
 * - API server → agent: `["c", call]` a channel call (ChannelCallSchema),
 *   `["x", id]` cancel the call `id`;
 * - agent → API server: `["a", id, answer]` the call `id`'s CallAnswer,
 *   `["p", push]` a channel push (ChannelPushSchemas).
 * What is inside a call, an answer or a push is checked by whoever reads it,
 * exactly as on the link.
 */
export const LANE_PATH = "/berth/agents/lane";

/** How long an offered lane's token may wait for its upgrade: an agent opens it within a round trip. */
export const LANE_TOKEN_TTL_MS = 10_000;

/** The `lane` event's payload, API server → agent (on the link). */
export const LaneOfferSchema = z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/) });
export type LaneOffer = z.output<typeof LaneOfferSchema>;

/** A frame the API server sends on a lane. */
export type ServerLaneFrame = readonly ["c", unknown] | readonly ["x", string];

/** A frame an agent sends on a lane. */
export type AgentLaneFrame = readonly ["a", string, unknown] | readonly ["p", unknown];

/** Why a frame was refused: the lane is then closed, with this said in the log. */
export class LaneFrameError extends Error {
  override readonly name = "LaneFrameError";
}

/** Reads a frame an agent sent: its tag and parts checked, their contents left to their readers. */
export function readAgentFrame(text: string): AgentLaneFrame {
  const frame = parse(text);
  if (frame[0] === "a" && frame.length === 3 && isCallId(frame[1])) return frame as unknown as AgentLaneFrame;
  if (frame[0] === "p" && frame.length === 2) return frame as unknown as AgentLaneFrame;
  throw new LaneFrameError("not an answer or a push");
}

/** Reads a frame an API server sent: its tag and parts checked, a call's contents left to ChannelCallServer. */
export function readServerFrame(text: string): ServerLaneFrame {
  const frame = parse(text);
  if (frame[0] === "x" && frame.length === 2 && isCallId(frame[1]))
    return frame as unknown as ServerLaneFrame;
  // A call needs an id to be answered under: one the link's CallId would take.
  if (frame[0] === "c" && frame.length === 2 && isCallId((frame[1] as { id?: unknown } | null)?.id))
    return frame as unknown as ServerLaneFrame;
  throw new LaneFrameError("not a call or a cancel");
}

function parse(text: string): unknown[] {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    throw new LaneFrameError("not JSON");
  }
  if (!Array.isArray(frame)) throw new LaneFrameError("not an array");
  return frame;
}

function isCallId(id: unknown): id is string {
  return typeof id === "string" && id.length >= 1 && id.length <= MAX_CALL_ID_LENGTH;
}
