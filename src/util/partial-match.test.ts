import { describe, expect, it } from "vitest";
import { partialMatch } from "./partial-match.ts";

describe("partialMatch", () => {
  it("accepts extra keys and nested partial objects", () => {
    expect(
      partialMatch({ ok: true, version: 3, db: { up: true, ms: 2 } }, { ok: true, db: { up: true } }),
    ).toBe(true);
  });
  it("refuses a missing key, a different value or a different type", () => {
    expect(partialMatch({ ok: true }, { ok: true, ready: true })).toBe(false);
    expect(partialMatch({ ok: "true" }, { ok: true })).toBe(false);
    expect(partialMatch([1], { 0: 1 })).toBe(false);
    expect(partialMatch(null, {})).toBe(false);
  });
  it("matches arrays element by element up to the expected length", () => {
    expect(partialMatch([1, { a: 1, b: 2 }, 3], [1, { a: 1 }])).toBe(true);
    expect(partialMatch([1], [1, 2])).toBe(false);
  });
  it("matches primitives exactly", () => {
    expect(partialMatch("pong", "pong")).toBe(true);
    expect(partialMatch(0, -0)).toBe(false);
    expect(partialMatch(Number.NaN, Number.NaN)).toBe(true);
  });
});
