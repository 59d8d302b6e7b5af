import { describe, expect, it } from "vitest";
import { splitMatches } from "../src/container/highlight.ts";
import { outputFileName, outputText } from "../src/container/output-file.ts";

describe("marking the search in a line of output", () => {
  it("splits around every match, ignoring case, and keeps the text as it was", () => {
    const parts = splitMatches("Error: disk error", "error");
    expect(parts).toEqual([
      { text: "Error", match: true },
      { text: ": disk ", match: false },
      { text: "error", match: true },
    ]);
    expect(parts.map((p) => p.text).join("")).toBe("Error: disk error");
  });

  it("gives the whole line unmarked for an empty search or none found", () => {
    expect(splitMatches("abc", "")).toEqual([{ text: "abc", match: false }]);
    expect(splitMatches("abc", "x")).toEqual([{ text: "abc", match: false }]);
  });

  it("keeps markup in a line as text (the page renders parts as text)", () => {
    const parts = splitMatches("<img src=x onerror=alert(1)>", "img");
    expect(parts.map((p) => p.text).join("")).toBe("<img src=x onerror=alert(1)>");
  });

  it("matches exact case where lower case would change the line's length", () => {
    const parts = splitMatches("İstanbul ist", "ist");
    expect(parts.map((p) => p.text).join("")).toBe("İstanbul ist");
    expect(parts.filter((p) => p.match).map((p) => p.text)).toEqual(["ist"]);
  });
});

describe("the output's download", () => {
  it("writes one line each: ISO time, stream, text", () => {
    expect(
      outputText([
        { ts: 0, stream: "stdout", text: "ready" },
        { ts: 1000, stream: "stderr", text: "oops" },
      ]),
    ).toBe("1970-01-01T00:00:00.000Z stdout ready\n1970-01-01T00:00:01.000Z stderr oops\n");
  });

  it("names the file after the container and the time, with nothing a file system refuses", () => {
    expect(outputFileName("web", 0)).toBe("web-output-1970-01-01T00-00-00-000Z.log");
  });
});
