import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
import { eventually } from "../helpers/deadline.ts";
import { nextActivity } from "../helpers/events.ts";
import { settled } from "../helpers/settled.ts";
import { type Client, docker, useTestServer } from "../helpers/test-server.ts";
import { versioned } from "../helpers/versioned.ts";

describe("code updates with a health-gated restart and automatic rollback", () => {
  const server = useTestServer({ BERTH_KEEP_RELEASES: "3" });
  let alice: Client;
  let app: Container;
  let id: string;
  let concurrentWinner = "";
  // The failures here are wrong answers; the timeout is long so that a loaded machine's slow answer is none.
  const healthCheck = { request: { health: true }, expect: { ok: true }, timeoutMs: 10_000 };

  const version = () => app.request({ version: true });
  const onDisk = async () => ({
    current: await readlink(join(server.dataDir, "code", id, "current")),
    releases: (await readdir(join(server.dataDir, "code", id, "releases"))).sort(),
  });

  beforeAll(async () => {
    alice = await server.connect("alice");
    app = await alice.containers.create({ name: "app", code: versioned("v1"), healthCheck });
    id = app.id;
  });

  it("puts a good release in place: the workload answers with its new version", async () => {
    const told = nextActivity(alice, (e) => e.action === "container.updated");
    const result = await app.update(versioned("v2"));
    expect(result).toMatchObject({ id, release: 2, previousRelease: 1 });
    for (const step of [
      "validate",
      "write",
      "stop",
      "switch",
      "start",
      "ready",
      "health",
      "total",
    ] as const) {
      expect(result.timings[step]).toBeGreaterThanOrEqual(0);
    }
    expect(await version()).toBe("v2");
    expect((await told).message).toMatch(/^Updated 'app' to release 2 in \d+\.\d s$/);
    const items = await app.releases();
    expect(items.map((r) => [r.number, r.status])).toEqual([
      [2, "active"],
      [1, "previous"],
    ]);
    expect(items[0]).toMatchObject({
      createdBy: "alice",
      files: 2,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect((await app.status()).release).toBe(2);
  });

  it("rolls back code that throws at start, saying what failed", async () => {
    const told = nextActivity(alice, (e) => e.action === "container.update_rolled_back");
    const res = await settled(
      app.update(
        versioned("v3", { prelude: "console.error('cannot load config'); throw new Error('boom');" }),
      ),
    );
    expect(res).toMatchObject({
      ok: false,
      error: {
        code: "UPDATE_ROLLED_BACK",
        details: { release: 3, restoredRelease: 2, failedStep: "ready", cause: "exited", exitCode: 1 },
      },
    });
    if (!res.ok) expect(res.error.details?.output).toContain("cannot load config");
    expect(await version()).toBe("v2");
    expect((await told).message).toBe(
      "Update to release 3 failed: the process exited with code 1 — rolled back to release 2",
    );
    const items = await app.releases();
    expect(items.find((r) => r.number === 3)?.status).toBe("failed");
    expect(await onDisk()).toMatchObject({ current: "releases/2" });
  });

  it("rolls back code that never connects", async () => {
    await expect(
      app.update({ files: { "index.js": "setInterval(() => {}, 1e6);" } }, { readyTimeoutMs: 1500 }),
    ).rejects.toMatchObject({
      code: "UPDATE_ROLLED_BACK",
      details: { failedStep: "ready", cause: "never_connected" },
    });
    expect(await version()).toBe("v2");
  });

  it("rolls back code that fails its health request", async () => {
    await expect(app.update(versioned("v5", { healthy: false }))).rejects.toMatchObject({
      code: "UPDATE_ROLLED_BACK",
      details: { failedStep: "health", cause: "health_mismatch" },
    });
    expect(await version()).toBe("v2");
    expect((await app.status()).state).toBe("running");
  });

  it("rolls back when the container is killed in the middle of an update", async () => {
    const updating = settled(
      app.update(
        versioned("v-killed", { prelude: "const until = Date.now() + 10000; while (Date.now() < until) {}" }),
      ),
    );
    // Wait until the new release is switched in and its process runs (it spins for 10 s before it
    // connects: time enough, on a loaded machine too, to see it and kill it first), then kill it from outside.
    await eventually(
      15_000,
      "the new release switched in and running",
      async () => {
        const target = await readlink(join(server.dataDir, "code", id, "current")).catch(() => "");
        const running = (await docker.getContainer(`berth-${id}`).inspect()).State.Running;
        return (
          (target !== "releases/2" && target.startsWith("releases/") && running) ||
          `${target}, running: ${running}`
        );
      },
      20,
    );
    execFileSync("docker", ["kill", `berth-${id}`]);
    const res = await updating;
    expect(res).toMatchObject({
      ok: false,
      error: { code: "UPDATE_ROLLED_BACK", details: { failedStep: "ready", cause: "exited", exitCode: 137 } },
    });
    expect(await version()).toBe("v2");
    expect(await onDisk()).toMatchObject({ current: "releases/2" });
  });

  it("refuses a second update while one runs with a retryable CONFLICT, never interleaving them", async () => {
    const [a, b] = await Promise.all([
      settled(app.update(versioned("v6"))),
      settled(app.update(versioned("v7"))),
    ]);
    const results = [a, b];
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({
      ok: false,
      error: { code: "CONFLICT", retryable: true },
    });
    concurrentWinner = a.ok ? "v6" : "v7";
    expect(await version()).toBe(concurrentWinner);
  });

  it("accepts a tar.gz archive", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ar-"));
    try {
      for (const [name, content] of Object.entries(versioned("v8").files))
        await writeFile(join(dir, name), content);
      const archive = execFileSync("tar", ["-C", dir, "-cz", "."]);
      const result = await app.update({ archive });
      expect(await version()).toBe("v8");
      expect(result.release).toBeGreaterThan(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a hostile archive as a whole and writes nothing", async () => {
    const before = await onDisk();
    const dir = await mkdtemp(join(tmpdir(), "ar-"));
    try {
      await writeFile(join(dir, "index.js"), "x");
      // GNU tar keeps a member name as given with -P: here one that climbs out of the release.
      const archive = execFileSync("tar", ["-C", dir, "-cP", "--transform", "s,^,../../,", "index.js"]);
      await expect(app.update({ archive })).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
        details: { field: "code.archive" },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(await onDisk()).toEqual(before);
  });

  it("rolls back to a named release, keeps only the newest releases, and answers NOT_FOUND for pruned ones", async () => {
    const items = await app.releases();
    expect(items.length).toBeLessThanOrEqual(3);
    const oldest = Math.min(...items.map((r) => r.number));
    await expect(app.rollback({ release: 1 })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const active = items.find((r) => r.status === "active")!;
    const target = items.find((r) => r.status === "previous");
    expect(target).toBeDefined();
    const back = await app.rollback({ release: target!.number });
    expect(back).toMatchObject({ release: target!.number, previousRelease: active.number });
    expect(await version()).toBe(concurrentWinner);
    const after = await app.releases();
    expect(after.find((r) => r.number === active.number)?.status).toBe("rolled-back");
    expect(after.find((r) => r.number === target!.number)?.status).toBe("active");
    expect(oldest).toBeGreaterThan(1);
    const disk = await onDisk();
    expect(disk.releases).toHaveLength((await app.releases()).length);
  });
});
