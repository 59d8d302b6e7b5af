import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
import { eventually } from "../helpers/deadline.ts";
import {
  type Client,
  call,
  docker,
  echoCode,
  startTestServer,
  useTestServer,
} from "../helpers/test-server.ts";

/** Every container of `owner` this berth has in the engine, as the engine lists them. */
async function engineContainers(instanceId: string, owner: string): Promise<number> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`berth.instance=${instanceId}`, `berth.owner=${owner}`] },
  });
  return list.length;
}

async function deleteAll(client: Client): Promise<void> {
  const all: Container[] = [];
  for await (const info of client.containers.list()) all.push(await client.containers.get(info.id));
  // One at a time: a small engine queue would refuse a burst of deletes too.
  for (const c of all) await c.delete();
}

describe("per-owner quotas", () => {
  const server = useTestServer({
    BERTH_QUOTA_CONTAINERS: "5",
    BERTH_QUOTA_RUNNING: "2",
    BERTH_QUOTA_MEMORY_MB: "1024",
    BERTH_QUOTA_CPUS: "100",
    BERTH_QUOTA_CODE_MB: "1",
  });
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    alice = await server.connect("alice");
    bob = await server.connect("bob");
  });

  it("lets exactly the containers quota through out of 50 concurrent creates, and alice at her quota does not limit bob", async () => {
    // On call: the 50 answers are compared as berth gave them.
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(alice, "container:create", { name: `burst-${i}`, start: false }),
      ),
    );
    const created = answers.filter((a) => a.ok);
    const refused = answers.filter((a) => !a.ok);
    expect(created).toHaveLength(5);
    expect(refused).toHaveLength(45);
    for (const r of refused) {
      expect(r).toMatchObject({
        ok: false,
        error: {
          code: "QUOTA_EXCEEDED",
          category: "validation",
          retryable: false,
          details: { quota: "containers", usage: 5, requested: 1, limit: 5 },
        },
      });
    }
    expect(await engineContainers(server.berth.instanceId, "alice")).toBe(5);

    const bobs = await bob.containers.create({ name: "bobs", start: false });
    expect(bobs.info.owner).toBe("bob");

    // A delete gives the slot back.
    const first = created[0];
    if (!first?.ok) throw new Error("unreachable");
    await (await alice.containers.get(first.data.id)).delete();
    await alice.containers.create({ name: "after-delete", start: false });
    await expect(alice.containers.create({ name: "one-too-many", start: false })).rejects.toMatchObject({
      code: "QUOTA_EXCEEDED",
    });
    await deleteAll(alice);
    await deleteAll(bob);
  });

  it("does not hold the admin's own containers to a tenant's quota", async () => {
    const admin = await server.connect("admin");
    for (let i = 0; i < 6; i++) await admin.containers.create({ name: `ops-${i}`, start: false });
    expect((await admin.containers.list({ filter: { namePrefix: "ops-" } }).page()).items).toHaveLength(6);
    await deleteAll(admin);
  });

  it("refuses a start past the running quota, and a stop frees the slot", async () => {
    const code = await echoCode();
    const bots: Container[] = [];
    for (let i = 0; i < 3; i++)
      bots.push(await alice.containers.create({ name: `run-${i}`, code, start: false }));
    const ids = bots.map((b) => b.id);
    // Started together; the exact refusal is the point, so the answers are compared as berth gave them.
    const answers = await Promise.all(ids.map((id) => call(alice, "container:start", { id })));
    expect(answers.filter((a) => a.ok)).toHaveLength(2);
    const refusedAt = answers.findIndex((a) => !a.ok);
    expect(answers[refusedAt]).toMatchObject({
      ok: false,
      error: { code: "QUOTA_EXCEEDED", details: { quota: "running", usage: 2, requested: 1, limit: 2 } },
    });
    const refused = bots[refusedAt] as Container;
    expect((await refused.status()).state).toBe("created");

    // bob runs as many as his own quota allows, whatever alice runs.
    const b = await bob.containers.create({ name: "bob-runs", code });
    expect(b.info.state).toBe("running");

    const running = bots.filter((_, i) => i !== refusedAt);
    await (running[0] as Container).stop();
    expect((await refused.start()).state).toBe("running");
    // A create that starts counts as running too.
    await expect(alice.containers.create({ name: "run-3", code })).rejects.toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { quota: "running" },
    });
    await deleteAll(alice);
    await deleteAll(bob);
  });

  it("refuses an update or a rollback that would start a stopped container past the running quota, and lets one within it through", async () => {
    const code = await echoCode();
    const up: Container[] = [];
    for (let i = 0; i < 2; i++) up.push(await alice.containers.create({ name: `up-${i}`, code }));
    const down = await alice.containers.create({ name: "down", code, start: false });
    await expect(down.update(code)).rejects.toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { quota: "running", usage: 2, requested: 1, limit: 2 },
    });
    // Nothing was written or switched, and nothing runs.
    expect(await down.releases()).toHaveLength(1);
    expect((await docker.getContainer(`berth-${down.id}`).inspect()).State.Running).toBe(false);
    expect((await down.status()).state).toBe("created");

    // bob's stopped container updates (and starts) whatever alice runs.
    const bobs = await bob.containers.create({ name: "bobs", code, start: false });
    await bobs.update(code);
    expect((await bobs.status()).state).toBe("running");

    // Within the quota the update starts it; stopped again, a rollback past the quota is refused too.
    const up0 = up[0] as Container;
    await up0.stop();
    expect(await down.update(code)).toMatchObject({ release: 2 });
    expect((await down.status()).state).toBe("running");
    await down.stop();
    await up0.start();
    await expect(down.rollback()).rejects.toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { quota: "running" },
    });
    expect((await down.status()).release).toBe(2);
    expect((await down.status()).state).toBe("stopped");
    await deleteAll(alice);
    await deleteAll(bob);
  });

  it("refuses memory past the quota, naming usage, request and limit", async () => {
    await expect(
      alice.containers.create({ name: "big", code: await echoCode(), resources: { memoryMb: 2000 } }),
    ).rejects.toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { quota: "memoryMb", usage: 0, requested: 2000, limit: 1024 },
    });
    // Not started, it holds no memory: the same container is created stopped.
    const stopped = await alice.containers.create({
      name: "big",
      code: await echoCode(),
      resources: { memoryMb: 2000 },
      start: false,
    });
    await expect(stopped.start()).rejects.toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { quota: "memoryMb" },
    });
    await deleteAll(alice);
  });

  it("refuses an update that would keep more code than the code quota, writing nothing", async () => {
    const echo = (await echoCode()).files["index.js"] as string;
    const padded = `${echo}\n// ${"x".repeat(600 * 1024)}\n`;
    const c = await alice.containers.create({ name: "coder", code: { files: { "index.js": padded } } });
    const refused = await c.update({ files: { "index.js": padded } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: "QUOTA_EXCEEDED", details: { quota: "codeMb", limit: 1 } });
    expect((refused as { details?: { usage?: number } }).details?.usage).toBeCloseTo(0.59, 1);
    expect(await c.releases()).toHaveLength(1);
    // bob's code is his own.
    const b = await bob.containers.create({ name: "coder", code: { files: { "index.js": padded } } });
    await b.update(await echoCode());
    await deleteAll(alice);
    await deleteAll(bob);
  });
});

describe("code kept on disk after failed updates", () => {
  const server = useTestServer({ BERTH_KEEP_RELEASES: "2" });

  it("does not grow with every failed update: the oldest failed releases go beyond BERTH_KEEP_RELEASES", async () => {
    const alice = await server.connect("alice");
    const c = await alice.containers.create({ name: "flaky", code: await echoCode() });
    const crashes = { files: { "index.js": "process.exit(3);" } };
    for (let i = 0; i < 4; i++) {
      await expect(c.update(crashes)).rejects.toMatchObject({ code: "UPDATE_ROLLED_BACK" });
    }
    const items = await c.releases();
    expect(items.map((r) => [r.number, r.status])).toEqual([
      [5, "failed"],
      [1, "active"],
    ]);
    const onDisk = await readdir(join(server.dataDir, "code", c.id, "releases"));
    expect(onDisk.sort()).toEqual(["1", "5"]);
    expect((await server.berth.quotas.usage("alice")).codeBytes).toBe(items.reduce((n, r) => n + r.bytes, 0));
    await deleteAll(alice);
  });
});

describe("quota usage across a restart of berth", () => {
  it("is counted from the store: berth started again on the same data directory still refuses past the quota", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "bq-"));
    const env = { BERTH_DATA_DIR: dataDir, BERTH_QUOTA_CONTAINERS: "2" };
    const first = await startTestServer(env);
    try {
      const alice = await first.connect("alice");
      await alice.containers.create({ name: "one", start: false });
      await alice.containers.create({ name: "two", start: false });
      await alice.close();
    } finally {
      await first.stop(); // containers stay, as after any stop of berth
    }
    const second = await startTestServer(env);
    try {
      const alice = await second.connect("alice");
      await expect(alice.containers.create({ name: "three", start: false })).rejects.toMatchObject({
        code: "QUOTA_EXCEEDED",
        details: { quota: "containers", usage: 2, limit: 2 },
      });
      const bob = await second.connect("bob");
      await bob.containers.create({ name: "three", start: false });
    } finally {
      await second.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("per-owner rate limits", () => {
  const server = useTestServer({ BERTH_RATE_CREATE_PER_MIN: "1", BERTH_RATE_CREATE_BURST: "2" });

  it("limits alice's burst of creates with a retry-after, while bob's next create passes", async () => {
    const alice = await server.connect("alice");
    const bob = await server.connect("bob");
    const r1 = await alice.containers.create({ name: "r1", start: false });
    await alice.containers.create({ name: "r2", start: false });
    const limited = await alice.containers.create({ name: "r3", start: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(limited).toMatchObject({
      code: "RATE_LIMITED",
      category: "system",
      retryable: true,
      details: { limit: "create" },
    });
    const retryAfterMs = (limited as { details?: { retryAfterMs?: number } }).details?.retryAfterMs;
    expect(retryAfterMs).toBeGreaterThan(50_000);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect((await bob.containers.create({ name: "r3", start: false })).info.owner).toBe("bob");
    // Reads are not rate limited, and neither is the admin.
    for (let i = 0; i < 20; i++) await r1.status();
    const admin = await server.connect("admin");
    for (let i = 0; i < 4; i++) await admin.containers.create({ name: `ops-${i}`, start: false });
    await deleteAll(admin);
    await deleteAll(alice);
    await deleteAll(bob);
  });
});

describe("the fair engine queue", () => {
  const server = useTestServer({ BERTH_ENGINE_CONCURRENCY: "2" });

  it("serves bob's two creates, sent after alice's thirty, before most of alice's", async () => {
    const alice = await server.connect("alice");
    const bob = await server.connect("bob");
    const finished: string[] = [];
    const create = (client: Client, name: string) =>
      client.containers.create({ name, start: false }).then(() => finished.push(name));
    const alices = Array.from({ length: 30 }, (_, i) => create(alice, `a-${i}`));
    // "Just after": once alice's burst is in the queue.
    await eventually(10_000, "alice's creates queued", () => server.berth.engineQueue.waiting >= 20, 2);
    const bobs = [create(bob, "b-0"), create(bob, "b-1")];
    await Promise.all([...alices, ...bobs]);
    const bobAt = ["b-0", "b-1"].map((n) => finished.indexOf(n));
    const alicesAfterBob = finished.slice(Math.max(...bobAt) + 1).filter((n) => n.startsWith("a-"));
    expect(alicesAfterBob.length, `finished in order: ${finished.join(" ")}`).toBeGreaterThanOrEqual(15);
    await deleteAll(alice);
    await deleteAll(bob);
  });
});

describe("a full engine queue", () => {
  const server = useTestServer({ BERTH_ENGINE_CONCURRENCY: "1", BERTH_ENGINE_QUEUE_PER_OWNER: "2" });

  it("answers RATE_LIMITED with a retry-after past alice's waiting bound, and still takes bob's create", async () => {
    const alice = await server.connect("alice");
    const bob = await server.connect("bob");
    // On call: which of the eight berth refuses, and how, is the point.
    const answers = Promise.all(
      Array.from({ length: 8 }, (_, i) => call(alice, "container:create", { name: `q-${i}`, start: false })),
    );
    await eventually(10_000, "alice's line full", () => server.berth.engineQueue.waiting >= 2, 2);
    const bobs = bob.containers.create({ name: "q-bob", start: false });
    const results = await answers;
    const refused = results.filter((r) => !r.ok);
    expect(results.filter((r) => r.ok).length).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r).toMatchObject({
        ok: false,
        error: { code: "RATE_LIMITED", retryable: true, details: { limit: "engine_queue" } },
      });
      if (!r.ok) expect(r.error.details?.retryAfterMs).toBeGreaterThan(0);
    }
    expect((await bobs).info.owner).toBe("bob");
    // Once the line has drained, the same request passes.
    const again = results.findIndex((r) => !r.ok);
    await alice.containers.create({ name: `q-${again}`, start: false });
    await deleteAll(alice);
    await deleteAll(bob);
  });
});
