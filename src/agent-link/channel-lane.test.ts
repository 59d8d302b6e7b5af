import { describe, expect, it } from "vitest";
import { LaneFrameError, LaneOfferSchema, readAgentFrame, readServerFrame } from "./channel-lane.ts";

const call = { kind: "channel", id: "7", op: "request", args: ["C0123456789A", { n: 1 }, 1000] };

describe("the channel lane's frames", () => {
  it("reads an agent's answers and pushes, leaving what they carry to their readers", () => {
    expect(readAgentFrame(JSON.stringify(["a", "7", { ok: true, value: 1 }]))).toEqual([
      "a",
      "7",
      { ok: true, value: 1 },
    ]);
    expect(readAgentFrame('["p",{"kind":"anything"}]')).toEqual(["p", { kind: "anything" }]);
  });

  it("reads a server's calls and cancels", () => {
    expect(readServerFrame(JSON.stringify(["c", call]))).toEqual(["c", call]);
    expect(readServerFrame('["x","7"]')).toEqual(["x", "7"]);
  });

  it.each([
    ["not JSON", "{"],
    ["not an array", '{"a":1}'],
    ["an unknown tag", '["z","7",1]'],
    ["an answer without its id", '["a",{"ok":true}]'],
    ["an answer whose id is not a call id", `["a","${"9".repeat(33)}",{}]`],
    ["an answer whose id is a number", '["a",7,{}]'],
    ["a push with more parts", '["p",{},{}]'],
    ["a server's frame", JSON.stringify(["c", call])],
  ])("refuses from an agent: %s", (_what, text) => {
    expect(() => readAgentFrame(text)).toThrow(LaneFrameError);
  });

  it.each([
    ["a call without an id", '["c",{"kind":"channel"}]'],
    ["a call that is null", '["c",null]'],
    ["a call whose id is too long", JSON.stringify(["c", { ...call, id: "1".repeat(33) }])],
    ["a cancel of an empty id", '["x",""]'],
    ["an agent's frame", '["a","7",{}]'],
  ])("refuses from a server: %s", (_what, text) => {
    expect(() => readServerFrame(text)).toThrow(LaneFrameError);
  });

  it("takes only an offer of 256 random bits, base64url", () => {
    expect(LaneOfferSchema.safeParse({ token: "A".repeat(43) }).success).toBe(true);
    expect(LaneOfferSchema.safeParse({ token: "A".repeat(42) }).success).toBe(false);
    expect(LaneOfferSchema.safeParse({ token: `${"A".repeat(42)}/` }).success).toBe(false);
    expect(LaneOfferSchema.safeParse({ token: "A".repeat(43), path: "/x" }).success).toBe(false);
  });
});
