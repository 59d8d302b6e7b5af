import { describe, expect, it } from "vitest";
import { MAX_SPEC_INFO_LENGTH, MAX_SPEC_VALUE_LENGTH } from "#protocol";
import { cpuMs } from "../../test/helpers/cpu-time.ts";
import { REDACTED } from "../logging/redactor.ts";
import { TRUNCATION_MARKER } from "../logging/sanitize-log-line.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { toContainerInfo } from "./container-info.ts";
import type { StoredSpec } from "./container-spec.ts";
import { toSpecInfo } from "./container-spec-info.ts";

const DEFAULTS = { memoryMb: 256, cpus: 1, pids: 256 };
const SECRET = "s3cr3t-in-secretEnv-91c2";
const ENV_SECRET = "s3cr3t-under-a-secret-key-4d7e";

function record(spec: Partial<StoredSpec> = {}): ContainerRecord {
  return {
    id: "C0123456789A",
    owner: "alice",
    name: "web",
    image: "berth/runtime-node:24",
    spec: { name: "web", ...spec },
    dockerId: "d0",
    dockerName: "berth-C0123456789A",
    state: "running",
    health: "none",
    uid: 10_000,
    createdAt: 1,
    startedAt: 2,
    exitCode: null,
    release: 1,
    restartCount: 0,
  };
}

/** The spec as alice sees it, her secret values registered as berth does once the container is made. */
function shown(spec: Partial<StoredSpec>) {
  const secrets = new SecretRegistry();
  secrets.addEnvironment("alice", spec.env, spec.secretEnv);
  return toSpecInfo(record(spec).spec, DEFAULTS, secrets.forOwner("alice"));
}

describe("a container's spec as clients see it", () => {
  const spec: Partial<StoredSpec> = {
    command: ["node", "server.js", "--port", "8080"],
    env: { MODE: "prod", DB_PASSWORD: ENV_SECRET, LOG_LEVEL: "debug" },
    secretEnv: { STRIPE_KEY: SECRET, ALPHA: "another-s3cr3t-value" },
    resources: { memoryMb: 512 },
    healthCheck: { request: { ping: true }, expect: { pong: true }, intervalMs: 5_000 },
  };

  it("never holds a secret value: not a secretEnv value, not an env value under a secret-looking key", () => {
    const json = JSON.stringify(shown(spec));
    for (const secret of [SECRET, ENV_SECRET, "another-s3cr3t-value"]) expect(json).not.toContain(secret);
    expect(shown(spec)).not.toHaveProperty("secretEnv");
  });

  it("lists the secret keys, sorted and each once, with the secret-looking env keys moved out of env", () => {
    const info = shown(spec);
    expect(info.secretEnvKeys).toEqual(["ALPHA", "DB_PASSWORD", "STRIPE_KEY"]);
    expect(info.env).toEqual({ MODE: "prod", LOG_LEVEL: "debug" });

    const twice = { env: { API_TOKEN: "same-key-in-env" }, secretEnv: { API_TOKEN: "and-in-secretEnv" } };
    expect(shown(twice).secretEnvKeys).toEqual(["API_TOKEN"]);
  });

  it("fills in the server's defaults for the limits the spec leaves out", () => {
    const info = shown(spec);
    expect(info.resources).toEqual({ memoryMb: 512, cpus: 1, pids: 256 });
    expect(shown({}).resources).toEqual(DEFAULTS);
  });

  it("passes the command, the health check and the other env values through", () => {
    const info = shown(spec);
    expect(info.command).toEqual(["node", "server.js", "--port", "8080"]);
    expect(info.healthCheck).toEqual({ request: { ping: true }, expect: { pong: true }, intervalMs: 5_000 });
  });

  it("leaves the command and health check out when the spec names none (the image's own command runs)", () => {
    const info = shown({});
    expect(info).toEqual({ env: {}, secretEnvKeys: [], resources: DEFAULTS });
  });

  it("hides the owner's secrets wherever they appear in the other text, as in any text berth shows", () => {
    const leaky: Partial<StoredSpec> = {
      command: ["sh", "-c", `curl -H "x: ${SECRET}" http://example.test`],
      env: { GREETING: `hello ${SECRET}`, URL: "postgres://app:hunter22@db:5432/app" },
      secretEnv: { K: SECRET },
      healthCheck: { request: { op: "ping", token: "looks-secret-by-its-key" }, expect: `ok ${SECRET}` },
    };
    const info = shown(leaky);
    expect(info.command?.[2]).toBe(`curl -H "x: ${REDACTED}" http://example.test`);
    expect(info.env).toEqual({
      GREETING: `hello ${REDACTED}`,
      URL: `postgres://app:${REDACTED}@db:5432/app`,
    });
    expect(info.healthCheck).toEqual({ request: { op: "ping", token: REDACTED }, expect: `ok ${REDACTED}` });
    expect(JSON.stringify(info)).not.toContain("looks-secret-by-its-key");
  });

  it("is left out of the ContainerInfo that lists, lifecycle answers and pushes carry", () => {
    expect(toContainerInfo(record(spec))).not.toHaveProperty("spec");
  });
});

describe("a container's spec as clients see it, bounded", () => {
  /** 256 env values of 32 KiB: the largest env an earlier berth stored (a create now takes 1 MiB of env and command in all). */
  const huge = () =>
    Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`VAR_${i}`, `${i}`.padEnd(32_768, "v")]));

  it("cuts each env value and command argument to 1 KiB, marks it, and names it in `truncated`", () => {
    const info = shown({
      command: ["node", "a".repeat(5_000)],
      env: { SHORT: "ok", LONG: "b".repeat(5_000) },
    });
    expect(info.env.SHORT).toBe("ok");
    expect(info.env.LONG).toHaveLength(MAX_SPEC_VALUE_LENGTH);
    expect(info.env.LONG?.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(info.command?.[1]).toHaveLength(MAX_SPEC_VALUE_LENGTH);
    expect(info.truncated).toEqual({
      env: ["LONG"],
      args: [1],
      omittedEnv: 0,
      omittedArgs: 0,
      healthCheck: false,
    });
    expect(shown({ env: { SHORT: "ok" } })).not.toHaveProperty("truncated");
  });

  it("hides a secret of the owner's that the cut splits, its beginning kept and its end dropped", () => {
    const secret = "split-s3cr3t-at-the-cut-0123456789";
    // The secret starts 10 characters before the cut: its first 10 would be shown were the prefix redacted as whole text.
    const value = `${"x".repeat(MAX_SPEC_VALUE_LENGTH - 10)}${secret}${"y".repeat(100)}`;
    const info = shown({ env: { LONG: value }, secretEnv: { K: secret } });
    expect(info.env.LONG).not.toContain(secret.slice(0, 10));
    expect(info.env.LONG).toContain(REDACTED);
    expect(info.truncated?.env).toEqual(["LONG"]);
  });

  it("keeps the whole spec within 64 KiB, leaving out and counting the entries beyond", () => {
    const info = shown({ env: huge(), command: ["node", ..."c".repeat(300).split("")] });
    expect(JSON.stringify({ command: info.command, env: info.env }).length).toBeLessThanOrEqual(
      MAX_SPEC_INFO_LENGTH,
    );
    const shownCount = Object.keys(info.env).length;
    expect(shownCount).toBeGreaterThan(0);
    expect(info.truncated?.omittedEnv).toBe(256 - shownCount);
    expect(info.truncated?.env).toHaveLength(shownCount);
    expect(JSON.stringify(info).length).toBeLessThan(MAX_SPEC_INFO_LENGTH + 8_192);
  });

  it("leaves out the command's last arguments, counted, when the command alone fills the answer", () => {
    const command = Array.from({ length: 256 }, () => "d".repeat(4_096));
    const info = shown({ command, env: { MODE: "prod" } });
    expect(info.command?.length).toBeLessThan(256);
    expect(info.truncated?.omittedArgs).toBe(256 - (info.command?.length ?? 0));
    expect(info.truncated?.omittedEnv).toBe(1);
    expect(info.env).toEqual({});
  });

  it("shows a health check whose JSON is longer than 1 KiB as its cut JSON text", () => {
    const info = shown({ healthCheck: { request: { pad: "e".repeat(5_000) } } });
    expect(info.healthCheck?.request).toBe(
      `{"pad":"${"e".repeat(MAX_SPEC_VALUE_LENGTH - 8 - TRUNCATION_MARKER.length)}${TRUNCATION_MARKER}`,
    );
    expect(info.truncated?.healthCheck).toBe(true);
  });

  it("builds the largest spec quickly: only what is shown is redacted", () => {
    const secrets = new SecretRegistry();
    secrets.addEnvironment("alice", undefined, { K: "some-s3cr3t-value" });
    const spec = record({ env: huge() }).spec;
    const times = [1, 2, 3].map(() => cpuMs(() => toSpecInfo(spec, DEFAULTS, secrets.forOwner("alice"))));
    // Was ~290 ms for all 8 MiB; 64 KiB of it takes ~2 ms once warm (the best of three, in CPU time rather than
    // on the wall clock, for a loaded machine).
    expect(Math.min(...times)).toBeLessThan(50);
  });
});
