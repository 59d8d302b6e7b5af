import {
  CHANNEL_CONTAINER_ID,
  type ChannelArgsOf,
  MAX_CALL_ID_LENGTH,
  MAX_CHANNEL_TIMEOUT_MS,
} from "./channel-ops.ts";

const ENVELOPE = ["kind", "id", "op", "args"] as const;

/** A `request` call on a workload's channel, as ChannelCallSchema and CHANNEL_OPS.request.args take it. */
export interface ChannelRequestCall {
  id: string;
  args: ChannelArgsOf<"request">;
  /** The placement generation the server routed it by (the agent's GenerationFence checks it). */
  generation?: number;
}

/**
 * The hot path of the agent link: a request to a workload, and its answer, checked by hand.
 *
 * Every call from an API server and every answer from an agent is checked
 * against the contract's zod schemas (channel-ops.ts, agent-link-contract.ts).
 * For a request — one per client request, the one call that is hot — that
 * check costs more than the rest of the agent's work in JavaScript, so these
 * two functions check its few fields by hand first. They are stricter than
 * the schemas, never looser: what they take, the schemas take too (a test
 * holds them to that over good and bad input), and anything they do not take
 * — a bad call, an error, another op — is handed to the schemas, which refuse
 * it with the same issues, and codes, as ever. The schemas stay the contract.
 */
export function asChannelRequest(raw: unknown): ChannelRequestCall | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const call = raw as Record<string, unknown>;
  // Exactly the envelope's four fields, its own (a strict object), and the optional fifth, `generation`: no
  // room for one the agent would not read.
  if (call.kind !== "channel" || call.op !== "request") return undefined;
  const stamped = Object.hasOwn(call, "generation");
  if (Object.keys(call).length !== (stamped ? 5 : 4)) return undefined;
  if (!ENVELOPE.every((key) => Object.hasOwn(call, key))) return undefined;
  const { generation } = call;
  if (stamped && !(Number.isSafeInteger(generation) && (generation as number) > 0)) return undefined;
  const { id, args } = call;
  if (typeof id !== "string" || id.length < 1 || id.length > MAX_CALL_ID_LENGTH) return undefined;
  if (!Array.isArray(args) || args.length !== 3) return undefined;
  const [containerId, , timeoutMs] = args as unknown[];
  if (typeof containerId !== "string" || !CHANNEL_CONTAINER_ID.test(containerId)) return undefined;
  if (!Number.isInteger(timeoutMs) || (timeoutMs as number) <= 0) return undefined;
  if ((timeoutMs as number) > MAX_CHANNEL_TIMEOUT_MS) return undefined;
  const request: ChannelRequestCall = { id, args: args as ChannelArgsOf<"request"> };
  if (stamped) request.generation = generation as number;
  return request;
}

/**
 * A successful answer (`{ ok: true, value }`, nothing else), as CallAnswerSchema takes it: `{ value }`;
 * undefined for anything else (an error, a malformed answer), which the schema then reads.
 */
export function asOkAnswer(raw: unknown): { value: unknown } | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const answer = raw as Record<string, unknown>;
  if (answer.ok !== true || Object.keys(answer).length !== 2) return undefined;
  if (!Object.hasOwn(answer, "ok") || !Object.hasOwn(answer, "value")) return undefined;
  return { value: answer.value };
}
