import { describe, expect, it } from "vitest";
import { jsonTextTooDeep, jsonValueProblem, MAX_JSON_DEPTH } from "./json-depth.ts";

/** `levels` arrays (or objects) nested in one another, built without recursion. */
function nested(levels: number, kind: "array" | "object" = "array"): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = kind === "array" ? [v] : { a: v };
  return v;
}

describe("jsonValueProblem", () => {
  it("accepts plain JSON up to the limit, of either kind", () => {
    expect(jsonValueProblem({ a: [1, "x", null, true, { b: {} }] })).toBeUndefined();
    expect(jsonValueProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonValueProblem(nested(MAX_JSON_DEPTH, "object"))).toBeUndefined();
    expect(jsonValueProblem("just a string")).toBeUndefined();
  });

  it("refuses one level more, and a million more without overflowing the stack", () => {
    expect(jsonValueProblem(nested(MAX_JSON_DEPTH + 1))).toMatch(/at most 64 levels/);
    expect(jsonValueProblem(nested(MAX_JSON_DEPTH + 1, "object"))).toMatch(/at most 64 levels/);
    expect(jsonValueProblem(nested(1_000_000))).toMatch(/at most 64 levels/);
  });

  it("refuses binary, functions and an undefined value", () => {
    expect(jsonValueProblem({ a: Buffer.from("x") })).toMatch(/binary/);
    expect(jsonValueProblem([new ArrayBuffer(1)])).toMatch(/binary/);
    expect(jsonValueProblem({ f: () => 1 })).toBeDefined();
    expect(jsonValueProblem(10n)).toBeDefined();
    expect(jsonValueProblem(undefined)).toBeDefined();
  });
});

describe("jsonTextTooDeep", () => {
  it("agrees with the nesting of parsed text", () => {
    for (const levels of [0, 1, 63, 64, 65]) {
      for (const kind of ["array", "object"] as const) {
        // The frame's own object is one level: its data may nest MAX_JSON_DEPTH deep.
        const text = JSON.stringify({ type: "message", data: nested(levels, kind) });
        expect(jsonTextTooDeep(text, MAX_JSON_DEPTH + 1), `${kind} ${levels}`).toBe(levels > MAX_JSON_DEPTH);
      }
    }
    expect(jsonTextTooDeep(`{"data":${"[".repeat(500_000)}${"]".repeat(500_000)}}`, 65)).toBe(true);
  });

  it("ignores brackets inside strings, escaped quotes and all", () => {
    const tricky = JSON.stringify({ s: `${"[".repeat(100)}\\"{{{\\\\`, t: '"]]]"', u: "\\" });
    expect(jsonTextTooDeep(tricky, 1)).toBe(false);
    expect(jsonTextTooDeep(JSON.stringify({ s: "\\", a: [[[]]] }), 3)).toBe(true);
  });
});
