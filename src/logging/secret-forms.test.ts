import { describe, expect, it } from "vitest";
import { REDACTED, Redactor } from "./redactor.ts";
import { sanitizeLogLine } from "./sanitize-log-line.ts";
import { FORM_CHARS_PER_VALUE_CHAR, STORED_FORM_CHARS_PER_VALUE_CHAR, secretForms } from "./secret-forms.ts";
import { hasUnshowableCharacter } from "./secret-limits.ts";
import { SecretSet } from "./secret-set.ts";

const PEM = [
  "-----BEGIN RSA PRIVATE KEY-----",
  "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB",
  "aFDrBz9vFqU4yJ1sMPhJkhjJ9r9mA5Kb8Ykqj0Rt1GL6Dxk1ZqvYb7sZG2m3nE0Q",
  "-----END RSA PRIVATE KEY-----",
].join("\n");

function redactorFor(value: string): Redactor {
  const set = new SecretSet();
  for (const form of secretForms(value)) set.add(form);
  return new Redactor(() => [set]);
}

const shown = (text: string) => sanitizeLogLine(text, { maxLength: Number.POSITIVE_INFINITY });

describe("secretForms", () => {
  it("holds a multi-line value and its lines once each when its lines cover its sanitised form", () => {
    const forms = secretForms(PEM);
    // The lines also without what an escape printed before them would swallow: the first base64
    // character, or the dashes (intermediates, to an ESC; parameters, to a CSI) and the letter after.
    const lines = PEM.split("\n");
    const heads = lines.map((line) => line.slice(line.startsWith("-") ? 6 : 1));
    expect(forms).toEqual([PEM, ...lines, ...heads]);
    // The sanitised value ("\x0a" between lines) shows nothing but hidden lines.
    const out = redactorFor(PEM).redactString(`key: ${shown(PEM)}`);
    expect(out).toBe(`key: ${Array(4).fill(REDACTED).join("\\x0a")}`);
  });

  it("keeps the sanitised form of a multi-line value when a line is too short to be hidden on its own", () => {
    const value = `${PEM.split("\n").slice(0, 2).join("\n")}\nFw==\n-----END RSA PRIVATE KEY-----`;
    expect(secretForms(value)).toContain(shown(value));
    expect(redactorFor(value).redactString(`key: ${shown(value)}`)).toBe(`key: ${REDACTED}`);
  });

  it("keeps the sanitised form of a value, or of a line, that sanitising changes", () => {
    const value = "tab\tand\x07bell-secret\nsecond\x1b[31mline-here";
    const forms = secretForms(value);
    expect(forms).toContain(shown(value));
    expect(forms).toContain(shown("second\x1b[31mline-here"));
    expect(redactorFor(value).redactString(`out: ${shown("second\x1b[31mline-here")}`)).toBe(
      `out: ${REDACTED}`,
    );
  });

  it("gives each form once, and nothing for a value too short to be a secret", () => {
    expect(secretForms("plain-secret-value")).toEqual(["plain-secret-value", "lain-secret-value"]);
    expect(secretForms("abc")).toEqual([]);
    const repeated = "same-line-here\nsame-line-here";
    expect(secretForms(repeated)).toEqual([repeated, "same-line-here", "ame-line-here"]);
  });

  it("hides what is left of a value when an escape sequence printed just before it swallows its head", () => {
    // The review's case: "\x1b[" before "12;4mXXXX…" makes "12;4m" the end of a CSI; sanitising
    // drops "\x1b[12;4m", and neither the value nor its sanitised form is left to match.
    const cases: Array<[string, string]> = [
      ["12;4mXXXXXXXXXXXXXXXX", "\x1b["],
      ["12;4mXXXXXXXXXXXXXXXX", "\x1b[3"],
      ["12;4mXXXXXXXXXXXXXXXX", "\x1b"],
      ["hunter2-is-my-password", "\x1b"],
      ["hunter2-is-my-password", "\x1b("],
      ["hunter2-is-my-password", "\x1b["],
      ["[1;2mrest-of-the-secret", "\x1b"],
      ["  -leading-intermediates", "\x1b"],
    ];
    for (const [value, before] of cases) {
      const line = `out: ${before}${value} end`;
      expect(shown(line), JSON.stringify(line)).not.toContain(value);
      expect(redactorFor(value).redactString(shown(line)), JSON.stringify(line)).toBe(`out: ${REDACTED} end`);
    }
    // A PEM key printed line by line after a colour code: each line is still hidden.
    for (const line of PEM.split("\n")) {
      expect(redactorFor(PEM).redactString(shown(`\x1b[1;31m\x1b[${line}`))).toBe(REDACTED);
    }
  });

  it("hides a value stored with a lone surrogate at each end, whichever of them the text pairs", () => {
    // Only an older berth could store such a value (validation refuses it now). Sanitising keeps
    // a surrogate the text pairs and turns a lone one into U+FFFD, so the raw value matches only
    // when neither end is paired and the sanitised one only when both are lone.
    const value = "\udc00stored-by-an-older-berth\ud800";
    expect(hasUnshowableCharacter(value)).toBe(true);
    const middle = "stored-by-an-older-berth";
    for (const [before, after] of [
      ["\ud83d", ""],
      ["", "\ude00"],
      ["\ud83d", "\ude00"],
      ["", ""],
    ]) {
      const out = redactorFor(value).redactString(shown(`<${before}${value}${after}>`));
      expect(out, JSON.stringify([before, after])).not.toContain(middle);
      expect(out).toContain(REDACTED);
    }
  });

  it("stays within FORM_CHARS_PER_VALUE_CHAR characters per character of a value accepted today", () => {
    const values = [
      PEM,
      "plain-secret-value",
      "12;4mXXXXXXXXXXXXXXXX",
      // Newlines whose lines cannot cover the value, after a head two escapes would swallow differently.
      `1;${"\n".repeat(8190)}`,
      `x;${"\r\n".repeat(4095)}`,
      `1;${"abcdefgh\n".repeat(900)}`,
    ];
    let worst = 0;
    for (const value of values) {
      expect(hasUnshowableCharacter(value)).toBe(false);
      const total = secretForms(value).reduce((sum, form) => sum + form.length, 0);
      expect(total).toBeLessThanOrEqual(FORM_CHARS_PER_VALUE_CHAR * value.length);
      worst = Math.max(worst, total / value.length);
    }
    expect(worst).toBeGreaterThan(FORM_CHARS_PER_VALUE_CHAR - 1);
  });

  it("stays within STORED_FORM_CHARS_PER_VALUE_CHAR characters per character of any value an older berth stored, control characters and all", () => {
    const values = [
      "\x01".repeat(8192),
      "\u202e".repeat(8192),
      "ab\x01\u202e\n".repeat(1638),
      `${"\x07".repeat(8)}\n`.repeat(910),
      "x\n".repeat(4096),
      // Long distinct lines of bidi controls: the value, its lines and both sanitised (six characters each).
      Array.from({ length: 80 }, (_, i) => `${"\u202e".repeat(90)}${i}`).join("\n"),
      // Lines whose heads an ESC, a CSI and a control string each swallow differently, and a lone half at their end.
      `${Array.from({ length: 80 }, (_, i) => `1]\x07${"\u202e".repeat(90)}${i}\ud800`).join("\n")}\nx`,
    ];
    let worst = 0;
    for (const value of values) {
      const total = secretForms(value).reduce((sum, form) => sum + form.length, 0);
      expect(total).toBeLessThanOrEqual(STORED_FORM_CHARS_PER_VALUE_CHAR * value.length);
      worst = Math.max(worst, total / value.length);
    }
    expect(worst).toBeGreaterThan(STORED_FORM_CHARS_PER_VALUE_CHAR * 0.9);
  });
});
