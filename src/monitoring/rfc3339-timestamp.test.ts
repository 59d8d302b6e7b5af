import { describe, expect, it } from "vitest";
import { parseRfc3339 } from "./rfc3339-timestamp.ts";

const parse = (text: string) => parseRfc3339(Buffer.from(text), 0, text.length);

describe("parseRfc3339", () => {
  it("reads the engine's RFC3339Nano stamps to the millisecond", () => {
    expect(parse("2026-11-25T18:44:14.247684167Z")).toBe(Date.parse("2026-11-25T18:44:14.247Z"));
  });

  it("reads short or missing fractions and numeric offsets", () => {
    expect(parse("2026-11-25T18:44:14Z")).toBe(Date.parse("2026-11-25T18:44:14Z"));
    expect(parse("2026-11-25T18:44:14.5Z")).toBe(Date.parse("2026-11-25T18:44:14.500Z"));
    expect(parse("2026-11-25T19:44:14.247684167+01:00")).toBe(Date.parse("2026-11-25T18:44:14.247Z"));
    expect(parse("2026-11-25T17:14:14.000-01:30")).toBe(Date.parse("2026-11-25T18:44:14Z"));
  });

  it("refuses anything else", () => {
    for (const text of [
      "hello world",
      "2026-11-25 18:44:14Z",
      "2026-13-25T18:44:14Z",
      "2026-11-25T18:44:14",
      "2026-11-25T18:44:14.Z",
      "2026-11-25T18:44:14Zjunk",
    ])
      expect(parse(text), text).toBeUndefined();
  });
});
