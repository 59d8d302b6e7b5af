import { describe, expect, it } from "vitest";
import { checkJson } from "../src/console/json-check.ts";

const at = (text: string) => {
  const check = checkJson(text);
  if (check.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused`);
  return check;
};

describe("the console's JSON check", () => {
  it("gives the value and its size as sent, compact, in UTF-8", () => {
    expect(checkJson('{ "a": [1, 2] }')).toEqual({ ok: true, value: { a: [1, 2] }, bytes: 11 });
    expect(checkJson('"é"')).toMatchObject({ ok: true, bytes: 4 });
    expect(checkJson(" null ")).toMatchObject({ ok: true, value: null });
  });

  it("names the line and column, 1-based, and the offset, where the text stops being JSON", () => {
    expect(at('{\n  "a": 1,\n  b: 2\n}')).toMatchObject({
      line: 3,
      column: 3,
      offset: 14,
      message: "Expected a property name in quotes",
    });
    expect(at("[1, 2,]")).toMatchObject({ line: 1, column: 7, message: "Expected a value" });
    expect(at('{"a": 1 "b": 2}')).toMatchObject({ column: 9, message: "Expected ',' or '}'" });
    expect(at("[1 2]")).toMatchObject({ column: 4, message: "Expected ',' or ']'" });
  });

  it("tells an empty text, an unfinished one and text after the value apart", () => {
    expect(at("  ")).toMatchObject({ offset: 2, message: expect.stringContaining("empty") });
    expect(at('{"a": ')).toMatchObject({ offset: 6, message: expect.stringContaining("end of the text") });
    expect(at('"abc')).toMatchObject({ message: expect.stringContaining("Unterminated string") });
    expect(at("1 2")).toMatchObject({ column: 3, message: "Unexpected text after the JSON value" });
  });

  it("refuses what JSON.parse refuses, at the offending character", () => {
    expect(at("01")).toMatchObject({ column: 2 });
    expect(at('"a\\x"')).toMatchObject({ column: 3, message: "Unknown escape in a string" });
    expect(at('"\\u12G4"')).toMatchObject({ column: 2, message: expect.stringContaining("hex digits") });
    expect(at('"a\tb"')).toMatchObject({ column: 3, message: expect.stringContaining("control character") });
    expect(at("tru")).toMatchObject({ column: 1, message: "Expected a value" });
    expect(at("-")).toMatchObject({ column: 1, message: "Malformed number" });
  });

  it("reads deep nesting without overflowing the page's stack", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(99_999)}`;
    expect(at(deep)).toMatchObject({
      offset: deep.length,
      message: expect.stringContaining("Expected ',' or ']'"),
    });
  });
});
