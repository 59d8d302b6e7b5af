import { describe, expect, it } from "vitest";
import { REDACTED, Redactor } from "./redactor.ts";
import { sanitizeLogLine } from "./sanitize-log-line.ts";
import { FORM_CHARS_PER_VALUE_CHAR, secretForms } from "./secret-forms.ts";
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
    expect(forms).toEqual([PEM, ...PEM.split("\n")]);
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
    expect(secretForms("plain-secret-value")).toEqual(["plain-secret-value"]);
    expect(secretForms("abc")).toEqual([]);
    const repeated = "same-line-here\nsame-line-here";
    expect(secretForms(repeated)).toEqual([repeated, "same-line-here"]);
  });

  it("stays within FORM_CHARS_PER_VALUE_CHAR characters per character of value, even for values made of control characters", () => {
    const values = [
      PEM,
      "\x01".repeat(8192),
      "\u202e".repeat(8192),
      "ab\x01\u202e\n".repeat(1638),
      `${"\x07".repeat(8)}\n`.repeat(910),
      "x\n".repeat(4096),
      // Long distinct lines of bidi controls: the value, its lines and both sanitised (six characters each).
      Array.from({ length: 80 }, (_, i) => `${"\u202e".repeat(90)}${i}`).join("\n"),
    ];
    let worst = 0;
    for (const value of values) {
      const total = secretForms(value).reduce((sum, form) => sum + form.length, 0);
      expect(total).toBeLessThanOrEqual(FORM_CHARS_PER_VALUE_CHAR * value.length);
      worst = Math.max(worst, total / value.length);
    }
    expect(worst).toBeGreaterThan(FORM_CHARS_PER_VALUE_CHAR - 1);
  });
});
