import { describe, expect, it } from "vitest";
import { MAX_LOG_LINE_LENGTH, sanitizeLogLine, TRUNCATION_MARKER } from "./sanitize-log-line.ts";

describe("sanitizeLogLine", () => {
  it("returns a clean line as it is, tabs, accents and emoji included", () => {
    const line = "listening on :3000\tré 🚀 日本";
    expect(sanitizeLogLine(line)).toBe(line);
  });

  it("strips colours and cursor movement (CSI)", () => {
    expect(sanitizeLogLine("\x1b[1;31merror\x1b[0m: \x1b[2K\x1b[10;20Hdone\x1b[?25l")).toBe("error: done");
  });

  it("strips titles and hyperlinks (OSC), ended by BEL or by ST", () => {
    expect(sanitizeLogLine("\x1b]0;evil title\x07ok")).toBe("ok");
    expect(sanitizeLogLine("\x1b]8;;https://x.example\x1b\\link\x1b]8;;\x1b\\")).toBe("link");
  });

  it("strips the other control strings and the short escape sequences", () => {
    expect(sanitizeLogLine("a\x1bP1$r0m\x1b\\b\x1b_apc\x1b\\c\x1b^pm\x9cd")).toBe("abcd");
    expect(sanitizeLogLine("\x1b7saved\x1b8 \x1b(Bascii \x1b=keypad \x1bcreset")).toBe(
      "saved ascii keypad reset",
    );
  });

  it("lets a sequence left open at the end of the line swallow the rest, as a terminal would", () => {
    expect(sanitizeLogLine("before\x1b]0;never ended")).toBe("before");
    expect(sanitizeLogLine("before\x1b[12")).toBe("before");
  });

  it("drops a lone ESC and judges what follows it on its own", () => {
    expect(sanitizeLogLine("a\x1b")).toBe("a");
    expect(sanitizeLogLine("a\x1b\x07b")).toBe("a\\x07b");
    expect(sanitizeLogLine("a\x1b[1\x07m")).toBe("a\\x07m");
  });

  it("shows other control characters as \\xNN, including DEL and the C1 range", () => {
    expect(sanitizeLogLine("bell\x07 nul\x00 bs\x08 del\x7f csi\x9b1m nl\n")).toBe(
      "bell\\x07 nul\\x00 bs\\x08 del\\x7f csi\\x9b1m nl\\x0a",
    );
  });

  it("drops one trailing carriage return but shows one inside the line", () => {
    expect(sanitizeLogLine("windows line\r")).toBe("windows line");
    expect(sanitizeLogLine("50%\r100%")).toBe("50%\\x0d100%");
  });

  it("shows bidirectional overrides so a line cannot display reordered", () => {
    expect(sanitizeLogLine("user\u202Egnp.exe")).toBe("user\\u202egnp.exe");
    expect(sanitizeLogLine("a\u2066b\u2069")).toBe("a\\u2066b\\u2069");
  });

  it("replaces lone surrogates and keeps pairs", () => {
    expect(sanitizeLogLine("a\ud800b\udc00c😀")).toBe("a\ufffdb\ufffdc😀");
  });

  it("cuts a long line within the cap and marks it", () => {
    const out = sanitizeLogLine("x".repeat(100_000));
    expect(out).toHaveLength(MAX_LOG_LINE_LENGTH);
    expect(out.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(sanitizeLogLine("x".repeat(MAX_LOG_LINE_LENGTH))).toHaveLength(MAX_LOG_LINE_LENGTH);
    expect(sanitizeLogLine("x".repeat(MAX_LOG_LINE_LENGTH))).not.toContain("truncated");
  });

  it("counts the cap after escaping and never cuts a surrogate pair in half", () => {
    const escaped = sanitizeLogLine("\x07".repeat(100), { maxLength: 50 });
    expect(escaped).toBe(`${"\\x07".repeat(9)}\\${TRUNCATION_MARKER}`);
    expect(escaped).toHaveLength(50);
    const emoji = sanitizeLogLine(`a${"😀".repeat(50)}`, { maxLength: 40 });
    expect(emoji).toBe(`a${"😀".repeat(13)}${TRUNCATION_MARKER}`);
  });

  it("marks a line the caller already cut", () => {
    expect(sanitizeLogLine("short", { truncated: true })).toBe(`short${TRUNCATION_MARKER}`);
  });
});
