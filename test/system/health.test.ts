import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import type { HealthChangedEvent } from "#protocol";
import { nextActivity } from "../helpers/events.ts";
import { type Client, useTestServer } from "../helpers/test-server.ts";

function nextHealth(client: Client, match: (e: HealthChangedEvent) => boolean): Promise<HealthChangedEvent> {
  return new Promise((resolve) => {
    const off = client.on("container:health_changed", (e) => {
      if (!match(e)) return;
      off();
      resolve(e);
    });
  });
}

describe("health", () => {
  const server = useTestServer();
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
  });

  it("turns healthy when the health check passes, then unhealthy after its misses, and pushes each change to the owner", async () => {
    const code = await readFile(new URL("../fixtures/workloads/flaky-health.js", import.meta.url), "utf8");
    const bobSaw: unknown[] = [];
    const offBob = bob.on("container:health_changed", (e) => bobSaw.push(e));
    const healthy = nextHealth(alice, (e) => e.name === "flaky" && e.health === "healthy");
    const unhealthy = nextHealth(alice, (e) => e.name === "flaky" && e.health === "unhealthy");
    const told = nextActivity(
      alice,
      (e) => e.containerName === "flaky" && e.action === "container.unhealthy",
    );
    const flaky = await alice.containers.create({
      name: "flaky",
      env: { HEALTHY_ANSWERS: "2" },
      healthCheck: {
        request: { health: true },
        expect: { ok: true },
        intervalMs: 1000,
        retries: 2,
        // Long enough that a loaded machine's slow answer is no miss: the misses here are wrong answers.
        timeoutMs: 5000,
      },
      code: { files: { "index.js": code } },
    });
    expect((await healthy).previous).toBe("starting");
    const bad = await unhealthy;
    expect(bad).toMatchObject({ previous: "healthy" });
    expect(bad.reason).toMatch(/failed 2 times in a row/);
    expect((await told).message).toMatch(/^'flaky' is unhealthy: /);
    expect((await flaky.status()).health).toBe("unhealthy");
    await flaky.stop();
    expect((await flaky.status()).health).toBe("none");
    offBob();
    expect(bobSaw).toEqual([]);
    await flaky.delete();
  });

  // The reason names the failure in berth's words today; it is redacted all the same (ServerPushes), so that a
  // reason quoting the workload later cannot carry a secret out. This holds either way.
  it("never shows the owner's secrets in a health reason, even when the workload's failed answer holds one", async () => {
    const secret = "health-canary-7f3a9c2e51";
    const unhealthy = nextHealth(alice, (e) => e.name === "leaky-health" && e.health === "unhealthy");
    const told = nextActivity(
      alice,
      (e) => e.containerName === "leaky-health" && e.action === "container.unhealthy",
    );
    const leaky = await alice.containers.create({
      name: "leaky-health",
      secretEnv: { DB_PASSWORD: secret },
      healthCheck: { request: { health: true }, intervalMs: 1000, retries: 1, timeoutMs: 5000 },
      code: {
        files: {
          // Every health check fails with an error that quotes the secret, as a careless workload's might.
          "index.js": `require("@berth/workload").connect().onRequest(() => { throw new Error("cannot reach the db with " + process.env.DB_PASSWORD); });`,
        },
      },
    });
    const bad = await unhealthy;
    expect(bad.reason).toMatch(/failed 1 times in a row: The workload answered with an error/);
    expect(bad.reason).not.toContain(secret);
    expect((await told).message).not.toContain(secret);
    await leaky.delete();
  });
});
