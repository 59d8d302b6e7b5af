import { beforeAll, describe, expect, it } from "vitest";
import type { ContainerLogEvent, ResourceUsageEvent, StatsOverviewEvent } from "#protocol";
import { helloThen } from "../helpers/events.ts";
import { type Client, call, ok, useTestServer } from "../helpers/test-server.ts";

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("resource usage and output", () => {
  const server = useTestServer();
  let alice: Client;
  let busy: string;
  let idle: string;

  beforeAll(async () => {
    alice = await server.connect("alice");
    [busy, idle] = await Promise.all([
      ok(alice, "container:create", {
        name: "busy",
        resources: { memoryMb: 128 },
        code: helloThen("welcome.then(() => { for (;;) {} });"),
      }).then((c) => c.id),
      ok(alice, "container:create", {
        name: "idle",
        code: helloThen(
          [
            "console.log('\\u001b[31mred alert\\u001b[0m and a bell\\u0007');",
            "console.error('to stderr');",
            // A secret written in two pieces, 300 ms apart, so that it reaches berth in separate chunks.
            "setInterval(() => { process.stdout.write('token half ' + process.env.SPLIT_SECRET.slice(0, 9)); setTimeout(() => process.stdout.write(process.env.SPLIT_SECRET.slice(9) + ' end\\n'), 300); }, 1000);",
          ].join("\n"),
        ),
        secretEnv: { SPLIT_SECRET: "split-canary-0123456789" },
      }).then((c) => c.id),
    ]);
  });

  it("reports high CPU for a busy loop and near zero for an idle workload", async () => {
    // The whole suite shares two cores: a busy container can be starved for a moment, so look for
    // one half-second window in which it shows what it does when it gets a core.
    let busyCpu = 0;
    for (let i = 0; i < 20 && busyCpu <= 50; i++) {
      await new Promise((r) => setTimeout(r, 500));
      busyCpu = Math.max(busyCpu, (await ok(alice, "container:stats", { id: busy })).cpuPercent);
    }
    expect(busyCpu).toBeGreaterThan(50);
    const quiet = await ok(alice, "container:stats", { id: idle });
    expect(quiet.cpuPercent).toBeLessThan(10);
    const busyStats = await ok(alice, "container:stats", { id: busy });
    expect(busyStats).toMatchObject({ memoryLimitBytes: 128 * 1024 * 1024, netRxBytes: 0, netTxBytes: 0 });
    expect(busyStats.memoryBytes).toBeGreaterThan(0);
    expect(busyStats.pids).toBeGreaterThanOrEqual(1);
  });

  it("pushes resource usage to a watcher until it stops watching", async () => {
    const got: ResourceUsageEvent[] = [];
    alice.on("container:resource_usage", (e) => got.push(e));
    expect(await ok(alice, "container:watch_stats", { id: idle, intervalMs: 250 })).toEqual({
      id: idle,
      intervalMs: 250,
    });
    await until(() => got.length >= 3);
    expect(got[0]).toMatchObject({ id: idle, cpuPercent: expect.any(Number), ts: expect.any(Number) });
    await ok(alice, "container:unwatch_stats", { id: idle });
    const count = got.length;
    await new Promise((r) => setTimeout(r, 700));
    expect(got.length).toBeLessThanOrEqual(count + 1); // at most one already on its way
    alice.off("container:resource_usage");
  });

  it("returns recent output by stream, with escapes removed", async () => {
    const { lines } = await ok(alice, "container:logs", { id: idle, tail: 50 });
    expect(lines).toContainEqual({
      stream: "stdout",
      ts: expect.any(Number),
      text: "red alert and a bell\\x07",
    });
    expect(lines).toContainEqual({ stream: "stderr", ts: expect.any(Number), text: "to stderr" });
  });

  it("streams new output, with a secret split across chunks still redacted", async () => {
    const got: ContainerLogEvent[] = [];
    alice.on("container:log", (e) => got.push(e));
    await ok(alice, "container:follow_logs", { id: idle });
    await until(() => got.some((l) => l.text.includes(" end")));
    const line = got.find((l) => l.text.includes(" end"))!;
    expect(line.text).toBe("token half [REDACTED] end");
    expect(JSON.stringify(got)).not.toContain("split-canary");
    alice.off("container:log");
  });

  it("stops a client's stats, overview and log streams when it disconnects", async () => {
    const other = await server.connect("alice");
    await ok(other, "container:watch_stats", { id: busy });
    await ok(other, "container:follow_logs", { id: busy });
    await ok(other, "containers:watch_stats", {});
    expect(server.berth.activeSubscriptions).toBeGreaterThanOrEqual(3);
    const before = server.berth.activeSubscriptions;
    other.disconnect();
    await until(() => server.berth.activeSubscriptions <= before - 3);
  });

  it("pushes an overview of the owner's running containers, one event per tick, following stops and starts", async () => {
    const bob = await server.connect("bob");
    const bobs = await ok(bob, "container:create", { name: "bobs", code: helloThen("") });
    const batches: StatsOverviewEvent[] = [];
    const ids = (b: StatsOverviewEvent | undefined) => new Set(b?.samples.map((s) => s.id));
    for (const bad of [{ intervalMs: 10 }, { intervalMs: 1000, id: idle }]) {
      const refused = await call(alice, "containers:watch_stats", bad as { intervalMs: number });
      expect(refused).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    }
    alice.on("containers:resource_usage", (e) => batches.push(e));
    expect(await ok(alice, "containers:watch_stats", { intervalMs: 250 })).toEqual({
      intervalMs: 250,
      containers: 2,
    });
    await until(() => batches.some((b) => ids(b).has(busy) && ids(b).has(idle)));
    const both = batches.find((b) => ids(b).has(busy) && ids(b).has(idle))!;
    expect(both.samples.find((s) => s.id === busy)).toMatchObject({
      cpuPercent: expect.any(Number),
      ts: expect.any(Number),
    });
    // Once both are sampled, a tick's samples travel together: far fewer events than samples.
    const steadyFrom = batches.indexOf(both);
    await until(() => batches.length >= steadyFrom + 6);
    const steady = batches.slice(steadyFrom);
    const sampled = steady.reduce((n, b) => n + b.samples.length, 0);
    expect(steady.length).toBeLessThanOrEqual(0.75 * sampled);
    // Each container at most once per event; never another owner's.
    expect(batches.every((b) => ids(b).size === b.samples.length)).toBe(true);
    expect(batches.some((b) => ids(b).has(bobs.id))).toBe(false);

    await ok(alice, "container:stop", { id: idle });
    const stoppedAt = batches.length;
    await until(() => batches.length >= stoppedAt + 3);
    // The first one may have been on its way.
    expect(batches.slice(stoppedAt + 1).some((b) => ids(b).has(idle))).toBe(false);
    await ok(alice, "container:start", { id: idle });
    await until(() => ids(batches.at(-1)).has(idle));

    await ok(alice, "containers:unwatch_stats", {});
    const count = batches.length;
    await new Promise((r) => setTimeout(r, 700));
    expect(batches.length).toBeLessThanOrEqual(count + 1);
    alice.off("containers:resource_usage");
    await ok(bob, "container:delete", { id: bobs.id });
  });
});
