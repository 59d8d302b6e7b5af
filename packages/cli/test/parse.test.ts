import { describe, expect, it } from "vitest";
import { parseDuration } from "../src/parse/duration.ts";
import { parseJsonArgument } from "../src/parse/json-argument.ts";
import { parseKeyValue } from "../src/parse/key-value.ts";
import { parseCpus, parseWholeNumber } from "../src/parse/numbers.ts";
import { parseMemoryMb } from "../src/parse/size.ts";
import { usageErrorOf } from "./usage-error-of.ts";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["5s", 5_000],
    ["1.5m", 90_000],
    ["2h", 7_200_000],
    ["10", 10_000],
  ])("reads %s as %i ms", (text, ms) => {
    expect(parseDuration(text, "--timeout")).toBe(ms);
  });

  it.each(["", "5x", "-1s", "s", "0s", "1 day"])("refuses %j with the flag and an example", (text) => {
    expect(usageErrorOf(() => parseDuration(text, "--timeout")).message).toMatch(/--timeout .*5s/);
  });
});

describe("parseMemoryMb", () => {
  it.each([
    ["128m", 128],
    ["128M", 128],
    ["1g", 1024],
    ["1GiB", 1024],
    ["524288k", 512],
    ["134217728", 128],
    ["0.5g", 512],
  ])("reads %s as %i MB", (text, mb) => {
    expect(parseMemoryMb(text, "--memory")).toBe(mb);
  });

  it.each(["", "12x", "100k", "0m", "lots"])("refuses %j (not a whole number of megabytes)", (text) => {
    expect(usageErrorOf(() => parseMemoryMb(text, "--memory")).message).toContain("--memory");
  });
});

describe("parseWholeNumber and parseCpus", () => {
  it("reads whole numbers and refuses anything else", () => {
    expect(parseWholeNumber("100", "--tail")).toBe(100);
    expect(parseWholeNumber("0", "--tail")).toBe(0);
    usageErrorOf(() => parseWholeNumber("1.5", "--tail"));
    usageErrorOf(() => parseWholeNumber("-3", "--tail"));
    expect(usageErrorOf(() => parseWholeNumber("0", "--release", 1)).message).toContain("at least 1");
  });

  it("reads CPU shares as docker does", () => {
    expect(parseCpus("0.5", "--cpus")).toBe(0.5);
    expect(parseCpus("2", "--cpus")).toBe(2);
    expect(parseCpus(".25", "--cpus")).toBe(0.25);
    usageErrorOf(() => parseCpus("0", "--cpus"));
    usageErrorOf(() => parseCpus("half", "--cpus"));
  });
});

describe("parseKeyValue", () => {
  it("adds each occurrence to the map, keeping '=' in values and allowing empty ones", () => {
    let env = parseKeyValue("A=1", "--env");
    env = parseKeyValue("B=x=y", "--env", env);
    env = parseKeyValue("C=", "--env", env);
    expect(env).toEqual({ A: "1", B: "x=y", C: "" });
  });

  it("refuses a pair without a key, saying what it got", () => {
    expect(usageErrorOf(() => parseKeyValue("=1", "--env")).message).toContain("'=1'");
  });
});

describe("parseJsonArgument", () => {
  it("parses any JSON value", () => {
    expect(parseJsonArgument('{"ping":1}', "JSON")).toEqual({ ping: 1 });
    expect(parseJsonArgument('"text"', "JSON")).toBe("text");
    expect(parseJsonArgument("null", "JSON")).toBeNull();
  });

  it("refuses invalid JSON as bad usage, saying how to quote it", () => {
    const err = usageErrorOf(() => parseJsonArgument("{ping:1}", "JSON"));
    expect(err.message).toMatch(/JSON is not valid JSON/);
    expect(err.message).toContain(`'{"ping": 1}'`);
  });
});
