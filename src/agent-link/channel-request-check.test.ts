import { describe, expect, it } from "vitest";
import { CallAnswerSchema } from "./agent-link-contract.ts";
import { CHANNEL_OPS, ChannelCallSchema } from "./channel-ops.ts";
import { asChannelRequest, asOkAnswer } from "./channel-request-check.ts";

const ID = "C0123456789A";
const GOOD = { kind: "channel", id: "17", op: "request", args: [ID, { any: ["json", 1] }, 5_000] };

/** What the schemas make of a call: its id and arguments, or undefined when they refuse it. */
function bySchemas(raw: unknown): { id: string; args: unknown; generation?: number } | undefined {
  const call = ChannelCallSchema.safeParse(raw);
  if (!call.success || call.data.op !== "request") return undefined;
  const args = CHANNEL_OPS.request.args.safeParse(call.data.args);
  if (!args.success) return undefined;
  const { generation } = call.data;
  return { id: call.data.id, args: args.data, ...(generation === undefined ? {} : { generation }) };
}

/** The good request with one field changed (`undefined`: removed). */
const withField = (key: string, value: unknown) => {
  const call: Record<string, unknown> = { ...GOOD, [key]: value };
  if (value === undefined) delete call[key];
  return call;
};
const withArg = (index: number, value: unknown) => {
  const args: unknown[] = [...GOOD.args];
  args[index] = value;
  return { ...GOOD, args };
};

/** Good and bad requests: every field of the envelope and of the arguments, right and wrong. */
const CALLS: unknown[] = [
  GOOD,
  withArg(1, null),
  withArg(1, "x".repeat(10_000)),
  withArg(2, 1),
  withArg(2, 3_600_000),
  withField("id", "x".repeat(32)),
  null,
  "request",
  42,
  [GOOD],
  {},
  withField("kind", "engine"),
  withField("kind", undefined),
  withField("op", "send"),
  withField("op", "Request"),
  withField("op", undefined),
  withField("id", ""),
  withField("id", "x".repeat(33)),
  withField("id", 17),
  withField("id", undefined),
  withField("args", undefined),
  withField("args", "x"),
  withField("args", { 0: ID, 1: "x", 2: 5_000, length: 3 }),
  withField("extra", true),
  // The placement generation the server routed it by (fencing): optional, a positive safe integer.
  withField("generation", 2),
  withField("generation", Number.MAX_SAFE_INTEGER),
  withField("generation", 2 ** 53),
  withField("generation", 0),
  withField("generation", -1),
  withField("generation", 1.5),
  withField("generation", "2"),
  withField("generation", null),
  { ...GOOD, generation: 2, extra: true },
  { ...GOOD, args: [ID, "x"] },
  { ...GOOD, args: [ID, "x", 5_000, "more"] },
  { ...GOOD, args: [] },
  withArg(0, "../../etc"),
  withArg(0, "c0123456789a"),
  withArg(0, `${ID}\n`),
  withArg(0, "C0123456789I"),
  withArg(0, null),
  withArg(2, 0),
  withArg(2, -1),
  withArg(2, 1.5),
  withArg(2, 3_600_001),
  withArg(2, Number.NaN),
  withArg(2, Number.POSITIVE_INFINITY),
  withArg(2, "5000"),
  withArg(2, null),
  // A field the envelope seems to have, but only through its prototype.
  Object.assign(Object.create({ kind: "channel" }) as object, {
    id: "1",
    op: "request",
    args: GOOD.args,
    x: 1,
  }),
];

describe("a request on the agent link, checked by hand (channel-request-check.ts)", () => {
  it("takes a call exactly when the schemas take it, with the same id and arguments", () => {
    for (const raw of CALLS) {
      const schemas = bySchemas(raw);
      const fast = asChannelRequest(raw);
      expect(fast, JSON.stringify(raw)).toEqual(schemas);
    }
    // The corpus holds both: a check that took nothing, or everything, would pass no test above by chance.
    expect(CALLS.filter((raw) => asChannelRequest(raw) !== undefined)).toHaveLength(8);
  });

  it("reads a success as the schema does, and leaves every other answer to it", () => {
    const answers: unknown[] = [
      { ok: true, value: null },
      { ok: true, value: { deep: [1, "two"] } },
      { ok: true, value: "x" },
      { ok: true, value: 0 },
      { ok: true },
      { ok: true, value: 1, extra: 2 },
      { ok: "true", value: 1 },
      { ok: false, error: { code: "CHANNEL_TIMEOUT", message: "late" } },
      { ok: false, value: 1 },
      { value: 1, x: 2 },
      [true, 1],
      null,
      "ok",
      Object.assign(Object.create({ ok: true }) as object, { value: 1, x: 2 }),
    ];
    for (const raw of answers) {
      const fast = asOkAnswer(raw);
      if (fast === undefined) continue;
      const schema = CallAnswerSchema.safeParse(raw);
      expect(schema.success && schema.data.ok && schema.data.value, JSON.stringify(raw)).toEqual(fast.value);
      // A request's answer is any JSON value: what the fast read passes on, the op's own schema takes.
      expect(CHANNEL_OPS.request.answer.safeParse(fast.value).success).toBe(true);
    }
    expect(answers.filter((raw) => asOkAnswer(raw) !== undefined)).toHaveLength(4);
  });
});
