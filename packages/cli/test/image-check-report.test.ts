import { PassThrough } from "node:stream";
import type { ImageCheckResult } from "@berth/client";
import { describe, expect, it } from "vitest";
import { printImageCheck } from "../src/output/image-check-report.ts";
import { Output } from "../src/output/output.ts";
import { terminalText } from "../src/output/terminal-text.ts";

function capture(): { out: Output; text: () => string } {
  const stdout = new PassThrough();
  let text = "";
  stdout.on("data", (c: Buffer) => {
    text += c.toString();
  });
  const out = new Output({
    json: false,
    interactive: false,
    color: false,
    stdout,
    stderr: new PassThrough(),
  });
  return { out, text: () => text };
}

const OSC52 = "\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07";

describe("berth image check's report on a terminal", () => {
  it("prints what the server sent with every control character and bidi override made visible", () => {
    const { out, text } = capture();
    const result: ImageCheckResult = {
      image: "acme/bot:1",
      ok: false,
      allowed: false,
      code: "probe",
      runtime: "node",
      checks: [
        { name: "image", status: "passed", summary: "present on the container engine" },
        { name: "labels", status: "failed", summary: `berth.runtime is '${OSC52}'`, fix: "fix \u009b2J it" },
        { name: "command", status: "passed", summary: `["node","\u202eexe.js"]` },
      ] as ImageCheckResult["checks"],
      exitCode: 3,
      output: [`line ${OSC52}`, "x".repeat(50_000)],
      ms: 12,
    };
    printImageCheck(out, result);
    const printed = text();
    // Newlines are the report's own; nothing else a terminal obeys or reorders by is left.
    const unsafe = [...printed].filter((c) => {
      const code = c.charCodeAt(0);
      return (
        (code < 0x20 && c !== "\n" && c !== "\t") ||
        (code >= 0x7f && code <= 0x9f) ||
        (code >= 0x202a && code <= 0x202e) ||
        (code >= 0x2066 && code <= 0x2069)
      );
    });
    expect(unsafe).toEqual([]);
    expect(printed).toContain("berth.runtime is '\\x1b]52;c;Y3VybCBldmlsLnNofHNo\\x07'");
    expect(printed).toContain("labels: fix \\x9b2J it");
    expect(printed).toContain('["node","\\u202eexe.js"]');
    expect(printed.length).toBeLessThan(5_000);
  });

  it("leaves plain text as it is, and cuts a long one", () => {
    expect(terminalText("main.py is in berth's probe\ttab ✓ 😀")).toBe(
      "main.py is in berth's probe\ttab ✓ 😀",
    );
    expect(terminalText("a\r\nb")).toBe("a\\x0d\\x0ab");
    expect(terminalText("\ud800x")).toBe("\ufffdx");
    expect(terminalText("abcdef", 3)).toBe("abc…");
  });
});
