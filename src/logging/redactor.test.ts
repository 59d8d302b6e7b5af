import { describe, expect, it } from "vitest";
import { REDACTED, Redactor } from "./redactor.ts";
import { SecretRegistry } from "./secret-registry.ts";

describe("Redactor", () => {
  it("hides values under secret-looking keys at any depth, whatever their case", () => {
    const r = new Redactor();
    const out = r.redact({
      user: "ann",
      Password: "pw1",
      nested: { API_KEY: "k", list: [{ authToken: "t" }], Credentials: { a: 1 } },
    });
    expect(out).toEqual({
      user: "ann",
      Password: REDACTED,
      nested: { API_KEY: REDACTED, list: [{ authToken: REDACTED }], Credentials: REDACTED },
    });
  });

  it("hides registered secrets wherever they appear in a string", () => {
    const secrets = new SecretRegistry();
    const r = secrets.forOwner("ann");
    secrets.addEnvironment(
      "ann",
      { DB_PASSWORD: "s3cr3t-db", REGION: "eu-west" },
      { STRIPE: "sk_live_canary" },
    );
    expect(r.redactString("connect with s3cr3t-db and sk_live_canary in eu-west")).toBe(
      `connect with ${REDACTED} and ${REDACTED} in eu-west`,
    );
    secrets.removeEnvironment("ann", { DB_PASSWORD: "s3cr3t-db" }, { STRIPE: "sk_live_canary" });
    expect(r.redactString("s3cr3t-db")).toBe("s3cr3t-db");
  });

  it("hides two overlapping secrets whole, not just the first", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("ann", undefined, { A: "abcdefgh", B: "efghijkl" });
    expect(secrets.forOwner("ann").redactString("<abcdefghijkl>")).toBe(`<${REDACTED}>`);
  });

  it("matches code units: a combining mark, a joiner or a CR after a secret does not hide it", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("ann", undefined, { A: "s3cr3t-value", B: "caf\u00e9-secret" });
    const r = secrets.forOwner("ann");
    for (const text of [
      "s3cr3t-value\u0301",
      "\u200ds3cr3t-value\u200d",
      "s3cr3t-value\r\n",
      "x caf\u00e9-secret\ufe0f",
    ]) {
      expect(r.redactString(text), JSON.stringify(text)).not.toContain("s3cr3t-value");
      expect(r.redactString(text), JSON.stringify(text)).not.toContain("-secret");
    }
    expect(r.redactString("\u{1F600} s3cr3t-value \u{1F600}")).toBe(`\u{1F600} ${REDACTED} \u{1F600}`);
  });

  it("hides secret-looking values: bearer tokens, JWTs, private keys, access keys, URL passwords", () => {
    const r = new Redactor();
    const jwt =
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    const text = [
      "Authorization: Bearer abcdefghijklmnop123",
      `token=${jwt}`,
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----",
      "aws AKIAIOSFODNN7EXAMPLE",
      "postgres://bob:hunter22@db:5432/x",
    ].join("\n");
    const out = r.redactString(text);
    for (const leak of ["abcdefghijklmnop123", jwt, "MIIEabc", "AKIAIOSFODNN7EXAMPLE", "hunter22"]) {
      expect(out).not.toContain(leak);
    }
    expect(out).toContain("postgres://bob:[REDACTED]@db:5432/x");
  });

  it("turns errors into plain objects with redacted message, stack and cause", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("ann", undefined, { S: "canary-in-error" });
    const r = secrets.forOwner("ann");
    const err = new Error("failed with canary-in-error", { cause: new Error("inner canary-in-error") });
    const out = r.redact({ err }) as unknown as { err: Record<string, unknown> };
    expect(JSON.stringify(out)).not.toContain("canary-in-error");
    expect(out.err.message).toBe(`failed with ${REDACTED}`);
  });

  it("never throws: a throwing getter or an invalid date gives REDACTED or a placeholder", () => {
    const r = new Redactor();
    const hostile = {
      get boom(): string {
        throw new Error("getter");
      },
    };
    expect(r.redact(hostile)).toBe(REDACTED);
    expect(r.redact({ when: new Date(Number.NaN) })).toEqual({ when: "Invalid Date" });
    expect(r.redactString(42 as unknown as string)).toBe(REDACTED);
  });

  it("costs linear time on text made to make the fixed rules backtrack", () => {
    const r = new Redactor();
    const started = performance.now();
    r.redactString("eyJ-".repeat(16_384));
    r.redactString("a.".repeat(32_768));
    // Quadratic, each took over a second; linear, a few milliseconds (the margin is for a loaded machine).
    expect(performance.now() - started).toBeLessThan(250);
  });

  it("never modifies its input, and survives cycles and buffers", () => {
    const r = new Redactor();
    const input: Record<string, unknown> = { password: "x", data: Buffer.from("abc") };
    input.self = input;
    const out = r.redact(input);
    expect(input.password).toBe("x");
    expect(out).toEqual({ password: REDACTED, data: "[binary 3 bytes]", self: "[Circular]" });
  });
});
