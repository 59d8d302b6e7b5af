import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
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

  it("shows alice the command, env, secret keys, limits and health check, and no secret value anywhere", async () => {
    const answer = await ok(aliceRaw, "container:status", { id: "spec-shown" });
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
    const mine = await ok(aliceRaw, "container:status", { id: bot.id });
    const answer = await ok(admin, "container:status", { id: bot.id });
    expect(answer.spec).toEqual(mine.spec);
    const json = JSON.stringify(answer);
    for (const [kind, secret] of Object.entries(SECRET)) expect(json.includes(secret), kind).toBe(false);
  });

  it("answers bob NOT_FOUND, as for a container that does not exist, with nothing of the spec", async () => {
    for (const ref of [bot.id, bot.name]) {
      const answer = await call(bob, "container:status", { id: ref });
      expect(answer).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
      const json = JSON.stringify(answer);
      for (const trace of ["STRIPE_KEY", "DB_PASSWORD", "GREETING", "demo", ...Object.values(SECRET)])
        expect(json).not.toContain(trace);
    }
  });

  it("keeps the spec on the SDK's handle, from get and across a start, and out of lists and lifecycle answers", async () => {
    const handle = await alice.containers.get("spec-shown");
    expect(handle.spec?.secretEnvKeys).toEqual(["DB_PASSWORD", "STRIPE_KEY"]);
    const started = await handle.start();
    expect(started).not.toHaveProperty("spec");
    expect(handle.spec?.env.MODE).toBe("demo");
    expect(bot.info).not.toHaveProperty("spec"); // the create's answer
    const page = await ok(aliceRaw, "container:list", {});
    expect(page.items.find((c) => c.id === bot.id)).not.toHaveProperty("spec");
    expect((await handle.status()).spec.command).toEqual(["node", "index.js", "--key=[REDACTED]"]);
  });
});
