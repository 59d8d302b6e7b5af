import { describe, expect, it } from "vitest";
import { presentOutputLine } from "./present-output-line.ts";
import { REDACTED } from "./redactor.ts";
import { TRUNCATION_MARKER } from "./sanitize-log-line.ts";
import { SecretRegistry } from "./secret-registry.ts";

const SECRET = "canary-s3cr3t-0123456789";

function aliceRedactor() {
  const secrets = new SecretRegistry();
  secrets.addEnvironment("alice", undefined, { K: SECRET });
  return secrets.forOwner("alice");
}

describe("presentOutputLine", () => {
  it("strips escapes before it redacts, so a secret split by an escape sequence is caught", () => {
    expect(presentOutputLine("key: canar\x1b[0my-s3cr3t-0123456789\x07", aliceRedactor())).toBe(
      `key: ${REDACTED}\\x07`,
    );
  });

  it("hides a secret whose head an escape printed just before it swallows", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("alice", undefined, { K: "12;4mXXXXXXXXXXXXXXXX", H: "hunter2-is-my-password" });
    const redactor = secrets.forOwner("alice");
    expect(presentOutputLine("key: \x1b[12;4mXXXXXXXXXXXXXXXX!", redactor)).toBe(`key: ${REDACTED}!`);
    expect(presentOutputLine("pw=\x1bhunter2-is-my-password", redactor)).toBe(`pw=${REDACTED}`);
    // Bob's view is not touched by alice's forms.
    expect(presentOutputLine("key: \x1b[12;4mXXXXXXXXXXXXXXXX!", secrets.forOwner("bob"))).toBe(
      "key: XXXXXXXXXXXXXXXX!",
    );
  });

  it("hides a secret stored with lone surrogates at both ends when the output pairs one of them", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("alice", undefined, { K: "\udc00lone-halves-around-it\ud800" });
    const out = presentOutputLine(
      "\ud83d\udc00lone-halves-around-it\ud800 and on",
      secrets.forOwner("alice"),
    );
    expect(out).not.toContain("lone-halves");
    expect(out).toContain(REDACTED);
  });

  it("redacts a long line whole before it cuts, leaving no prefix of a secret at the cut", () => {
    const redactor = aliceRedactor();
    for (let at = 80; at < 100; at++) {
      const line = "x".repeat(at) + SECRET + "y".repeat(100);
      const out = presentOutputLine(line, redactor, { maxLength: 100 });
      expect(out.length).toBeLessThanOrEqual(100);
      expect(out.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(out).not.toMatch(/canar|canary-s/);
    }
  });

  it("hides the start of a secret where the line's end was dropped", () => {
    const out = presentOutputLine(`${"\x1b[0m".repeat(50)}tail canary-s3cr3t`, aliceRedactor(), {
      truncated: true,
    });
    expect(out).not.toContain("canary-s3");
    expect(out.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it("looks at no more than four times the longest line", () => {
    const out = presentOutputLine(`${"z".repeat(1000)}${SECRET}`, aliceRedactor(), { maxLength: 100 });
    expect(out).toBe("z".repeat(100 - TRUNCATION_MARKER.length) + TRUNCATION_MARKER);
  });
});
