import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type Container,
  type ContainerDetail,
  MAX_SPEC_INFO_LENGTH,
  MAX_SPEC_VALUE_LENGTH,
} from "../../packages/client/src/index.ts";
import { type Client, call, echoCode, ok, type RawClient, useTestServer } from "../helpers/test-server.ts";

/** One canary per way a secret could reach the spec berth shows. */
const SECRET = {
  secretEnv: "canary-spec-secret-env-3b9e",
  envUnderSecretKey: "canary-spec-env-password-c41a",
  urlPassword: "canary-spec-url-pass-77d0",
};

describe("a container's spec in its status answer", () => {
  const server = useTestServer();
  let alice: Client;
  let aliceRaw: RawClient;
  let bob: RawClient;
  let admin: RawClient;
  let bot: Container;

  beforeAll(async () => {
    [alice, aliceRaw, bob, admin] = await Promise.all([
      server.connect("alice"),
      server.connectRaw("alice"),
      server.connectRaw("bob"),
      server.connectRaw("admin"),
    ]);
    bot = await alice.containers.create({
      name: "spec-shown",
      code: await echoCode(),
      command: ["node", "index.js", `--key=${SECRET.secretEnv}`],
      env: {
        MODE: "demo",
        GREETING: `hello ${SECRET.envUnderSecretKey}`,
        DB_PASSWORD: SECRET.envUnderSecretKey,
        DATABASE_URL: `postgres://app:${SECRET.urlPassword}@db/app`,
      },
      secretEnv: { STRIPE_KEY: SECRET.secretEnv },
      resources: { memoryMb: 128 },
      healthCheck: { request: { ping: true }, intervalMs: 60_000 },
      start: false,
    });
  });

  afterAll(async () => {
    await bot.delete().catch(() => {});
  });

  /** The spec answer, asked for as the dashboard's Spec section and `berth status` ask. */
  const detail = async (client: RawClient, id: string) =>
    (await ok(client, "container:status", { id, spec: true })) as ContainerDetail;

  it("shows alice the command, env, secret keys, limits and health check, and no secret value anywhere", async () => {
    const answer = await detail(aliceRaw, "spec-shown");
    const json = JSON.stringify(answer);
    for (const [kind, secret] of Object.entries(SECRET)) expect(json.includes(secret), kind).toBe(false);
    expect(answer.spec).toEqual({
      command: ["node", "index.js", "--key=[REDACTED]"],
      env: {
        MODE: "demo",
        GREETING: "hello [REDACTED]",
        DATABASE_URL: "postgres://app:[REDACTED]@db/app",
      },
      secretEnvKeys: ["DB_PASSWORD", "STRIPE_KEY"],
      // The server's defaults where the spec named none (the test server's: berth's own).
      resources: { memoryMb: 128, cpus: 1, pids: 256 },
      healthCheck: { request: { ping: true }, intervalMs: 60_000 },
    });
  });

  it("shows the admin exactly what alice sees, and no secret value either", async () => {
    const mine = await detail(aliceRaw, bot.id);
    const answer = await detail(admin, bot.id);
    expect(answer.spec).toEqual(mine.spec);
    const json = JSON.stringify(answer);
    for (const [kind, secret] of Object.entries(SECRET)) expect(json.includes(secret), kind).toBe(false);
  });

  it("answers bob NOT_FOUND, as for a container that does not exist, with nothing of the spec", async () => {
    for (const ref of [bot.id, bot.name]) {
      const answer = await call(bob, "container:status", { id: ref, spec: true });
      expect(answer).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
      const json = JSON.stringify(answer);
      for (const trace of ["STRIPE_KEY", "DB_PASSWORD", "GREETING", "demo", ...Object.values(SECRET)])
        expect(json).not.toContain(trace);
    }
  });

  it("sends the spec only when asked: a plain status, lists and lifecycle answers carry none", async () => {
    expect(await ok(aliceRaw, "container:status", { id: bot.id })).not.toHaveProperty("spec");
    expect(await ok(aliceRaw, "container:status", { id: bot.id, spec: false })).not.toHaveProperty("spec");
    const handle = await alice.containers.get("spec-shown");
    expect(handle.spec).toBeUndefined();
    expect(handle.info).not.toHaveProperty("spec");
    expect(bot.info).not.toHaveProperty("spec"); // the create's answer
    const page = await ok(aliceRaw, "container:list", {});
    expect(page.items.find((c) => c.id === bot.id)).not.toHaveProperty("spec");
  });

  it("keeps the spec on the SDK's handle once asked for, across a start and a plain status", async () => {
    const handle = await alice.containers.get("spec-shown");
    const asked = await handle.status({ spec: true });
    expect(asked.spec.command).toEqual(["node", "index.js", "--key=[REDACTED]"]);
    expect(handle.spec).toBe(asked.spec);
    const started = await handle.start();
    expect(started).not.toHaveProperty("spec");
    expect(await handle.status()).not.toHaveProperty("spec");
    expect(handle.spec?.secretEnvKeys).toEqual(["DB_PASSWORD", "STRIPE_KEY"]);
  });
});

describe("a large spec in the status answer", () => {
  const server = useTestServer();
  const SECRET_AT_CUT = "canary-cut-secret-5e1f-0123456789abcdef";
  let alice: Client;
  let aliceRaw: RawClient;
  let bob: Client;
  let big: Container;

  beforeAll(async () => {
    [alice, aliceRaw, bob] = await Promise.all([
      server.connect("alice"),
      server.connectRaw("alice"),
      server.connect("bob"),
    ]);
    // 200 values of 4 KiB (800 KiB: more than the engine takes in one create body is no use here), one
    // holding a secret across the 1 KiB cut, listed first so that it is shown.
    const env: Record<string, string> = {
      AT_CUT: `${"x".repeat(MAX_SPEC_VALUE_LENGTH - 12)}${SECRET_AT_CUT}`.padEnd(4_096, "y"),
    };
    for (let i = 1; i < 200; i++) env[`VAR_${String(i).padStart(3, "0")}`] = "v".repeat(4_096);
    big = await alice.containers.create({
      name: "spec-large",
      code: await echoCode(),
      env,
      secretEnv: { CUT_SECRET: SECRET_AT_CUT },
      start: false,
    });
  }, 120_000);

  afterAll(async () => {
    await big?.delete().catch(() => {});
  });

  it("answers a plain status small, whatever the env holds", async () => {
    const answer = await ok(aliceRaw, "container:status", { id: big.id });
    expect(JSON.stringify(answer).length).toBeLessThan(4_096);
  });

  it("answers with the spec bounded: values cut and marked, the rest counted, no secret", async () => {
    const answer = (await ok(aliceRaw, "container:status", { id: big.id, spec: true })) as ContainerDetail;
    const json = JSON.stringify(answer);
    expect(json.length).toBeLessThan(MAX_SPEC_INFO_LENGTH + 8_192);
    expect(json).not.toContain(SECRET_AT_CUT);
    expect(json).not.toContain(SECRET_AT_CUT.slice(0, 12));
    const { env, truncated } = answer.spec;
    const shown = Object.keys(env);
    expect(shown.length).toBeGreaterThan(10);
    for (const key of shown) expect(env[key]?.length).toBeLessThanOrEqual(MAX_SPEC_VALUE_LENGTH);
    expect(truncated?.env).toEqual(shown);
    expect(truncated?.omittedEnv).toBe(200 - shown.length);
    expect(answer.spec.secretEnvKeys).toEqual(["CUT_SECRET"]);
  });

  it("keeps alice's shown spec when bob creates a container: only her own secrets rebuild it", async () => {
    await ok(aliceRaw, "container:status", { id: big.id, spec: true });
    // A build redacts with the owner's redactor; between two asks with nothing of alice's changed, none is made.
    const forOwner = vi.spyOn(server.berth.secrets, "forOwner");
    let bobs: Container | undefined;
    try {
      bobs = await bob.containers.create({
        name: "spec-other",
        code: await echoCode(),
        secretEnv: { BOB_KEY: "bobs-s3cr3t-value-8d2c" },
        start: false,
      });
      await ok(aliceRaw, "container:status", { id: big.id, spec: true });
      expect(forOwner.mock.calls.filter(([owner]) => owner === "alice")).toEqual([]);

      // alice's own create changes what her redactor hides: her spec is built again.
      const mine = await alice.containers.create({
        name: "spec-mine",
        code: await echoCode(),
        secretEnv: { K: "alices-other-s3cr3t-1b7a" },
        start: false,
      });
      try {
        await ok(aliceRaw, "container:status", { id: big.id, spec: true });
        expect(forOwner.mock.calls.filter(([owner]) => owner === "alice").length).toBeGreaterThan(0);
      } finally {
        await mine.delete().catch(() => {});
      }
    } finally {
      forOwner.mockRestore();
      await bobs?.delete().catch(() => {});
    }
  });
});
