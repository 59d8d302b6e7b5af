import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/deadline.ts";
import { helloThen } from "../helpers/events.ts";
import {
  type Client,
  docker,
  echoCode,
  startTestServer,
  type TestServer,
  useTestServer,
} from "../helpers/test-server.ts";
import { queryStore } from "../helpers/test-store.ts";

interface CpuReading {
  usageNs: number;
  at: number;
  throttledPeriods: number;
}

/** The engine's own CPU counter for a container, with the time it was read (ns) and its throttling count. */
async function readCpu(dockerName: string): Promise<CpuReading> {
  const s = (await docker.getContainer(dockerName).stats({ stream: false })) as unknown as {
    read: string;
    cpu_stats: { cpu_usage: { total_usage: number }; throttling_data?: { throttled_periods: number } };
  };
  return {
    usageNs: s.cpu_stats.cpu_usage.total_usage,
    at: Date.parse(s.read) * 1e6,
    throttledPeriods: s.cpu_stats.throttling_data?.throttled_periods ?? 0,
  };
}

describe("CPU limits", () => {
  const server = useTestServer({ BERTH_DEFAULT_CPUS: "1", BERTH_MAX_CPUS: "2" });
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
  });

  it("gives every container the default limit when its spec names none", async () => {
    const [a, b] = await Promise.all([
      alice.containers.create({ name: "no-cpus", code: await echoCode(), start: false }),
      bob.containers.create({ name: "no-cpus", code: await echoCode(), start: false }),
    ]);
    for (const c of [a, b]) {
      const h = (await docker.getContainer(`berth-${c.id}`).inspect()).HostConfig;
      expect(h.NanoCpus).toBe(1_000_000_000);
    }
    await Promise.all([a.delete(), b.delete()]);
  });

  it.each([
    ["1e-12 (which would round to no limit)", 1e-12],
    ["0.009, below Docker's minimum", 0.009],
    ["zero", 0],
    ["a negative number", -1],
    ["more than BERTH_MAX_CPUS", 2.5],
  ])("refuses cpus of %s as VALIDATION_FAILED", async (_, cpus) => {
    await expect(
      alice.containers.create({
        name: "bad-cpus",
        code: await echoCode(),
        resources: { cpus },
        start: false,
      }),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(alice.containers.get("bad-cpus")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("accepts Docker's minimum of 0.01", async () => {
    const c = await alice.containers.create({
      name: "tiny-cpus",
      code: await echoCode(),
      resources: { cpus: 0.01 },
      start: false,
    });
    expect((await docker.getContainer(`berth-${c.id}`).inspect()).HostConfig.NanoCpus).toBe(10_000_000);
    await c.delete();
  });

  it("holds a busy loop at its limit", async () => {
    const c = await alice.containers.create({
      name: "spinner",
      resources: { cpus: 0.25 },
      code: helloThen("welcome.then(() => { for (;;) {} });"),
    });
    const name = `berth-${c.id}`;
    // The quota is an upper bound, which the machine's load cannot raise: over a window of seconds
    // the loop gets at most a quarter of a core plus one 100 ms period's worth. That it hit the
    // quota at all shows in the engine's count of throttled periods.
    // Long: a loaded machine may starve the loop below its quota for seconds.
    await eventually(30_000, "the loop throttled", async () => (await readCpu(name)).throttledPeriods > 0);
    // A window of at least 2 s in which it was throttled again: a loaded machine may starve the loop below
    // its quota for a while (no throttling then), so the window lasts until it hits the quota once more.
    const first = await readCpu(name);
    let second = first;
    await eventually(30_000, "a window of 2 s or more with more throttled periods", async () => {
      second = await readCpu(name);
      return (
        (second.at - first.at >= 2_000 * 1e6 && second.throttledPeriods > first.throttledPeriods) ||
        `${second.throttledPeriods - first.throttledPeriods} more throttled periods in ${(second.at - first.at) / 1e6} ms`
      );
    });
    const cores = (second.usageNs - first.usageNs) / (second.at - first.at);
    expect(cores).toBeLessThan(0.25 * 1.25);
    expect(second.throttledPeriods).toBeGreaterThan(first.throttledPeriods);
    await c.delete();
  });
});

describe("containers that an earlier berth made without a CPU limit", () => {
  let dataDir: string;
  let keyDir: string;
  let server: TestServer | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cb-"));
    keyDir = await mkdtemp(join(tmpdir(), "ck-"));
  });
  afterAll(async () => {
    await server?.close(); // removes the data directory and the instance's containers
    await rm(dataDir, { recursive: true, force: true });
    await rm(keyDir, { recursive: true, force: true });
  });

  /** Replaces the engine container with the same one minus its CPU limit, as a berth before limits made it. */
  async function withoutCpuLimit(dockerName: string): Promise<void> {
    const old = await docker.getContainer(dockerName).inspect();
    await docker.getContainer(dockerName).remove({ force: true });
    const { NanoCpus: _limit, ...host } = old.HostConfig;
    const made = await docker.createContainer({
      name: dockerName,
      Image: old.Config.Image,
      Cmd: old.Config.Cmd,
      Env: old.Config.Env,
      Labels: old.Config.Labels,
      User: old.Config.User,
      WorkingDir: old.Config.WorkingDir,
      NetworkDisabled: true,
      HostConfig: host,
    });
    await made.start();
    expect((await made.inspect()).HostConfig.NanoCpus).toBe(0);
  }

  it("gives them their limit at the next start, in place, for every owner", async () => {
    const env = { BERTH_DATA_DIR: dataDir, BERTH_SECRET_KEY_FILE: join(keyDir, "secret.key") };
    server = await startTestServer(env);
    const [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    const a = await alice.containers.create({ name: "old", code: await echoCode() });
    const b = await bob.containers.create({
      name: "old",
      code: await echoCode(),
      resources: { cpus: 0.5 },
    });
    await server.stop(); // the containers keep running, the data directory and its key stay
    await withoutCpuLimit(`berth-${a.id}`);
    await withoutCpuLimit(`berth-${b.id}`);
    await queryStore(dataDir, "DELETE FROM meta WHERE key = 'cpu-limits-backfilled'"); // as before limits existed

    server = await startTestServer(env);
    expect((await docker.getContainer(`berth-${a.id}`).inspect()).HostConfig.NanoCpus).toBe(1_000_000_000);
    expect((await docker.getContainer(`berth-${b.id}`).inspect()).HostConfig.NanoCpus).toBe(500_000_000);
    expect(server.logs()).toMatch(/gave a container made without a CPU limit its limit/);
    const alice2 = await server.connect("alice");
    expect((await alice2.containers.get(a.id)).info.state).toBe("running");
  });
});
