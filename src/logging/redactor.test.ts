import { describe, expect, it } from "vitest";
import { cpuMs } from "../../test/helpers/cpu-time.ts";
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

  it("matches code units: hides exactly the secret, whatever joins it into one character with what surrounds it", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("ann", undefined, {
      A: "s3cr3t",
      B: "caf\u00e9-secret",
      C: "p\u{1F511}ss-word",
      D: "line-secret\r",
      E: "flag-\u{1F1EB}",
      F: "key-\u1100",
    });
    const r = secrets.forOwner("ann");
    const cases: Array<[string, string]> = [
      // What follows joins the secret's last character into one grapheme cluster.
      ["s3cr3t\u0301 ok", `${REDACTED}\u0301 ok`],
      ["\u200ds3cr3t\u200d", `\u200d${REDACTED}\u200d`],
      ["s3cr3t\ufe0f", `${REDACTED}\ufe0f`],
      ["x caf\u00e9-secret\u0301 y", `x ${REDACTED}\u0301 y`],
      ["flag-\u{1F1EB}\u{1F1F7}", `${REDACTED}\u{1F1F7}`],
      ["key-\u1100\u1161\u11a8 ok", `${REDACTED}\u1161\u11a8 ok`],
      // A secret ending in CR, printed before an LF: CR LF is one cluster.
      ["x line-secret\r\ny", `x ${REDACTED}\ny`],
      // Non-ASCII and surrogate pairs before, inside and after: offsets stay right.
      ["ab\u00e9c\r\nd\u{1F600}s3cr3t\u{1F600}e", `ab\u00e9c\r\nd\u{1F600}${REDACTED}\u{1F600}e`],
      ["\u{1F511} p\u{1F511}ss-word \ud800 \uffff \ud55c", `\u{1F511} ${REDACTED} \ud800 \uffff \ud55c`],
    ];
    for (const [text, shown] of cases) expect(r.redactString(text), JSON.stringify(text)).toBe(shown);
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
    const ms = cpuMs(() => {
      r.redactString("eyJ-".repeat(16_384));
      r.redactString("a.".repeat(32_768));
    });
    // Quadratic, each took over a second; linear, a few milliseconds. CPU time, not the wall clock, which a
    // loaded machine stretches; the margin is for a slow one.
    expect(ms).toBeLessThan(250);
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
