import { describe, expect, it } from "vitest";
import { REDACTED } from "../logging/redactor.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import type { ContainerRecord } from "../store/container-repository.ts";
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
