import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { cpuMs } from "../../test/helpers/cpu-time.ts";
import { presentOutputLine } from "./present-output-line.ts";
import { REDACTED } from "./redactor.ts";
import { SecretRegistry } from "./secret-registry.ts";

const PEM = [
  "-----BEGIN RSA PRIVATE KEY-----",
  "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB",
  "aFDrBz9vFqU4yJ1sMPhJkhjJ9r9mA5Kb8Ykqj0Rt1GL6Dxk1ZqvYb7sZG2m3nE0Q",
  "Fw==",
  "-----END RSA PRIVATE KEY-----",
].join("\n");

describe("SecretRegistry", () => {
  it("redacts an owner's view with that owner's secrets only", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("alice", undefined, { K: "alice-s3cr3t" });
    secrets.addEnvironment("bob", undefined, { K: "Created" });
    // bob's workload prints a guess of alice's secret: it comes back as printed, so no oracle.
    expect(secrets.forOwner("bob").redactString("guess alice-s3cr3t")).toBe("guess alice-s3cr3t");
    // bob's "secret" does not blank alice's feed.
    expect(secrets.forOwner("alice").redactString("Created 'web'")).toBe("Created 'web'");
    expect(secrets.forOwner("alice").redactString("alice-s3cr3t")).toBe(REDACTED);
    expect(secrets.forOwner("carol").redactString("alice-s3cr3t Created")).toBe("alice-s3cr3t Created");
  });

  it("redacts the system log with every owner's secrets and every token, the admin's too", () => {
    const secrets = new SecretRegistry();
    secrets.setTokens(
      new Map([
        ["alice", "alice-token-1"],
        ["bob", "bob-token-22"],
      ]),
      "admin-token-333",
    );
    secrets.addEnvironment("alice", { API_TOKEN: "alice-env-token" }, { K: "alice-s3cr3t" });
    secrets.addEnvironment("bob", undefined, { K: "bob-s3cr3t" });
    const line = "alice-token-1 bob-token-22 admin-token-333 alice-env-token alice-s3cr3t bob-s3cr3t";
    expect(secrets.system.redactString(line)).toBe(Array(6).fill(REDACTED).join(" "));
  });

  it("hides an owner's token from that owner only, and the admin's from the admin", () => {
    const secrets = new SecretRegistry();
    secrets.setTokens(
      new Map([
        ["alice", "alice-token-1"],
        ["bob", "bob-token-22"],
      ]),
      "admin-token-333",
    );
    const text = "alice-token-1 bob-token-22 admin-token-333";
    expect(secrets.forOwner("alice").redactString(text)).toBe(`${REDACTED} bob-token-22 admin-token-333`);
    expect(secrets.forViewer({ owner: "bob", admin: false }).redactString(text)).toBe(
      `alice-token-1 ${REDACTED} admin-token-333`,
    );
    expect(secrets.forViewer({ owner: "admin", admin: true }).redactString(text)).toBe(
      `alice-token-1 bob-token-22 ${REDACTED}`,
    );
  });

  it("hides what an escape sequence printed just before a token leaves of it, as for a secret value", () => {
    const secrets = new SecretRegistry();
    secrets.setTokens(new Map([["alice", "12;4malice-token-tail"]]), "admin-token-tail-1");
    const alice = secrets.forOwner("alice");
    expect(presentOutputLine("t=\x1b[12;4malice-token-tail.", alice)).toBe(`t=${REDACTED}.`);
    expect(presentOutputLine("t=\x1b[12;4malice-token-tail.", secrets.system)).toBe(`t=${REDACTED}.`);
    // bob is told nothing about alice's token, in any form.
    expect(presentOutputLine("t=\x1b[12;4malice-token-tail.", secrets.forOwner("bob"))).toBe(
      "t=alice-token-tail.",
    );
  });

  it("replaces the whole token set: a revoked token is no longer special, a new one is hidden at once", () => {
    const secrets = new SecretRegistry();
    secrets.setTokens(new Map([["alice", "alice-token-old"]]), "admin-token-old");
    secrets.setTokens(new Map([["alice", "alice-token-new"]]), undefined);
    const text = "alice-token-old alice-token-new admin-token-old";
    expect(secrets.system.redactString(text)).toBe(`alice-token-old ${REDACTED} admin-token-old`);
    expect(secrets.forOwner("alice").redactString(text)).toBe(`alice-token-old ${REDACTED} admin-token-old`);
  });

  it("keeps a value hidden while any of the owner's containers still registers it", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("alice", undefined, { K: "shared-secret" });
    secrets.addEnvironment("alice", { DB_PASSWORD: "shared-secret" }, undefined);
    secrets.addEnvironment("bob", undefined, { K: "shared-secret" });
    secrets.removeEnvironment("alice", undefined, { K: "shared-secret" });
    expect(secrets.forOwner("alice").redactString("shared-secret")).toBe(REDACTED);
    secrets.removeEnvironment("alice", { DB_PASSWORD: "shared-secret" }, undefined);
    expect(secrets.forOwner("alice").redactString("shared-secret")).toBe("shared-secret");
    // bob still holds it: the system log keeps hiding it, bob's view too.
    expect(secrets.system.redactString("shared-secret")).toBe(REDACTED);
    expect(secrets.forOwner("bob").redactString("shared-secret")).toBe(REDACTED);
    secrets.removeEnvironment("bob", undefined, { K: "shared-secret" });
    expect(secrets.system.redactString("shared-secret")).toBe("shared-secret");
  });

  it("hides each line of a multi-line secret, so output printed line by line stays hidden", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("alice", undefined, { TLS_KEY: PEM.replaceAll("\n", "\r\n") });
    const alice = secrets.forOwner("alice");
    for (const line of PEM.split("\n").slice(1, 3)) {
      expect(alice.redactString(`  ${line}`)).toBe(`  ${REDACTED}`);
      expect(secrets.system.redactString(line)).toBe(REDACTED);
    }
    // Lines under eight characters are too likely to be ordinary text.
    expect(alice.redactString("Fw==")).toBe("Fw==");
    expect(alice.redactString(JSON.stringify({ key: "x", note: PEM }))).not.toContain("MIIEow");
  });

  it("hides a secret that output shows sanitised (a control character as \\xNN)", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("alice", undefined, { K: "bell\x07s3cr3t" });
    expect(secrets.forOwner("alice").redactString("x bell\\x07s3cr3t y")).toBe(`x ${REDACTED} y`);
  });

  it("copes with a 32,768-character and a 1 MiB secret: no crash, found, fast to match", () => {
    const secrets = new SecretRegistry();
    const big = `${"k".repeat(32_767)}!`;
    const huge = `${"m".repeat(1024 * 1024 - 1)}?`;
    secrets.addEnvironment("alice", undefined, { BIG: big, HUGE: huge });
    const alice = secrets.forOwner("alice");
    expect(alice.redactString(`<${big}>`)).toBe(`<${REDACTED}>`);
    expect(alice.redactString(`<${huge}>`)).toBe(`<${REDACTED}>`);
    const line = "x".repeat(4096);
    // CPU time, not the wall clock, which a loaded machine stretches.
    const ms = cpuMs(() => {
      for (let i = 0; i < 100; i++) alice.redactString(line);
    });
    expect(ms / 100).toBeLessThan(20);
    expect(secrets.system.redactString(big)).toBe(REDACTED);
  });

  it("hides the last characters of a cut text when they could begin a secret", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("alice", undefined, { K: "0123456789abcdef" });
    const alice = secrets.forOwner("alice");
    expect(alice.redactString("output 01234567", { openEnd: true })).not.toContain("01234567");
    expect(alice.redactString("output 01234567")).toBe("output 01234567");
  });

  it("hides a whole text that hits overlapping secrets far more often than it has characters", () => {
    const secrets = new SecretRegistry();
    const values: Record<string, string> = {};
    for (let n = 4; n < 200; n++) values[`K${n}`] = "a".repeat(n);
    secrets.addEnvironment("alice", undefined, values);
    let redacted: unknown;
    // CPU time, not the wall clock, which a loaded machine stretches.
    const ms = cpuMs(() => {
      redacted = secrets.forOwner("alice").redactString("a".repeat(16_384));
    });
    expect(redacted).toBe(REDACTED);
    expect(ms).toBeLessThan(500);
  });

  it("forgets an owner whose last secret and token are gone", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("alice", undefined, { K: "alice-s3cr3t" });
    secrets.removeEnvironment("alice", undefined, { K: "alice-s3cr3t" });
    secrets.removeEnvironment("alice", undefined, { K: "alice-s3cr3t" });
    expect(secrets.forOwner("alice").redactString("alice-s3cr3t")).toBe("alice-s3cr3t");
  });

  it("costs a create or a delete what it changes: one owner churning at quota never stalls the system log", () => {
    // One container's worth at the bounds: eight 8 KiB secrets, base64 in 64-character lines (like PEM keys).
    const environment = () => {
      const env: Record<string, string> = {};
      for (let k = 0; k < 8; k++)
        env[`S${k}`] = randomBytes(6144)
          .toString("base64")
          .replace(/(.{64})/g, "$1\n");
      return env;
    };
    const secrets = new SecretRegistry();
    secrets.addEnvironment("bob", undefined, environment());
    const held: Array<Record<string, string>> = [];
    for (let c = 0; c < 20; c++) {
      held.push(environment());
      secrets.addEnvironment("alice", undefined, held.at(-1));
    }
    secrets.system.redactString("warm-up");
    const costs: number[] = [];
    for (let round = 0; round < 20; round++) {
      const created = environment();
      // CPU time, not wall time: other processes on a busy machine do not count against us.
      const started = process.cpuUsage();
      secrets.addEnvironment("alice", undefined, created);
      secrets.system.redactString("created container");
      secrets.forOwner("alice").redactString("output line");
      secrets.removeEnvironment("alice", undefined, held.shift());
      secrets.system.redactString("deleted container");
      const used = process.cpuUsage(started);
      costs.push((used.user + used.system) / 1000);
      held.push(created);
    }
    costs.sort((a, b) => a - b);
    // The former design rebuilt its matchers from every addition since the last build: 30–1,500 ms each here.
    expect(costs[10]).toBeLessThan(25);
    const value = Object.values(held[0] ?? {})[0] ?? "";
    const line = value.split("\n")[1] ?? "";
    expect(secrets.system.redactString(value)).toBe(REDACTED);
    expect(secrets.system.redactString(`> ${line}`)).toBe(`> ${REDACTED}`);
    expect(secrets.forOwner("bob").redactString(line)).toBe(line);
  });
});

describe("berth's own secrets (the database URL's password)", () => {
  it("are hidden from the system log and the admin, not shown to owners' redactors, and replaced as a whole", () => {
    const secrets = new SecretRegistry();
    secrets.setServerSecrets(["db-pass-0123456789"]);
    // Not in a URL: the fixed rules already hide the credentials of one.
    const line = "the server said: db-pass-0123456789 is wrong";
    expect(secrets.system.redactString(line)).not.toContain("db-pass-0123456789");
    expect(secrets.forViewer({ owner: "root", admin: true }).redactString(line)).not.toContain("db-pass");
    // An owner's redactor holds that owner's secrets alone (no oracle for another's).
    expect(secrets.forOwner("alice").redactString(line)).toBe(line);
    secrets.setServerSecrets(["other-pass-0123456789"]);
    expect(secrets.system.redactString(line)).toBe(line);
    expect(secrets.system.redactString("other-pass-0123456789")).toBe(REDACTED);
  });
});
