import { describe, expect, it } from "vitest";
import { REDACTED, Redactor } from "./redactor.ts";

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
    const r = new Redactor();
    r.addEnvironment({ DB_PASSWORD: "s3cr3t-db", REGION: "eu-west" }, { STRIPE: "sk_live_canary" });
    expect(r.redactString("connect with s3cr3t-db and sk_live_canary in eu-west")).toBe(
      `connect with ${REDACTED} and ${REDACTED} in eu-west`,
    );
    r.removeEnvironment({ DB_PASSWORD: "s3cr3t-db" }, { STRIPE: "sk_live_canary" });
    expect(r.redactString("s3cr3t-db")).toBe("s3cr3t-db");
  });

  it("keeps a secret hidden while any container still registers it", () => {
    const r = new Redactor();
    r.addSecret("shared-secret");
    r.addSecret("shared-secret");
    r.removeSecret("shared-secret");
    expect(r.redactString("shared-secret")).toBe(REDACTED);
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
    const r = new Redactor();
    r.addSecret("canary-in-error");
    const err = new Error("failed with canary-in-error", { cause: new Error("inner canary-in-error") });
    const out = r.redact({ err }) as unknown as { err: Record<string, unknown> };
    expect(JSON.stringify(out)).not.toContain("canary-in-error");
    expect(out.err.message).toBe(`failed with ${REDACTED}`);
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
