import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { io, type Socket } from "socket.io-client";
import { QUOTAS_OFF, RATE_LIMITS_OFF } from "./admission-env.ts";
import { BerthChild } from "./berth-child.ts";
import { CLK_TCK, cpuTicks } from "./proc-stat.ts";
import { secretKeyFileBeside } from "./secret-key-file.ts";
import { percentile } from "./stats.ts";

/**
 * Monitoring at scale, with 100 idle containers:
 *  (a) CPU of berth + dockerd + containerd while berth samples all of them at
 *      1 Hz for its watchers (cgroup files), one `container:watch_stats` each;
 *  (a') the same through one overview subscription (`containers:watch_stats`),
 *      whose samples leave as one event a second; beside
 *  (b) the usual way: one engine `stats` call with `stream: false` per
 *      container per second (the bench process makes them; its CPU counts too);
 *  (c) `container:list` latency at 100 and at 200 containers.
 * CPU is read from /proc/<pid>/stat (utime + stime) over the same wall time.
 */
const CONTAINERS = 100;
const WINDOW_MS = 20_000;

function pidsOf(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Percent of one core used by `pids` (and this process, when `self`) during `fn`. */
interface CpuShare {
  /** All of it, in % of one core. */
  total: number;
  /** The benchmark's own process (berth and the client in (a); the polling client in (b)). */
  self: number;
  engine: number;
}

/** CPU over `fn`: of `who` (a process id, or this process) and of the engine's daemons. */
async function measureCpu(
  who: number | "self",
  enginePids: number[],
  fn: () => Promise<void>,
): Promise<CpuShare> {
  const before = enginePids.map(cpuTicks);
  const whoBefore = who === "self" ? 0 : cpuTicks(who);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const ticks = enginePids.map(cpuTicks).reduce((sum, t, i) => sum + t - before[i]!, 0);
  const used = process.cpuUsage(self0);
  const whoMs =
    who === "self" ? (used.user + used.system) / 1000 : ((cpuTicks(who) - whoBefore) * 1000) / CLK_TCK;
  const self = (whoMs / wall) * 100;
  const engine = ((ticks * 1000) / CLK_TCK / wall) * 100;
  return { total: self + engine, self, engine };
}

export async function run(): Promise<void> {
  const engineDaemons = [...pidsOf("dockerd"), ...pidsOf("containerd")];
  const dataDir = await mkdtemp(join(tmpdir(), "bm-"));
  // berth runs as its own process, as `npm start` runs it, so that its CPU is its own: the client that
  // receives the pushes (the application, in real life) lives in this process and is not counted.
  const berth = await BerthChild.spawn({
    BERTH_DATA_DIR: dataDir,
    BERTH_SECRET_KEY_FILE: secretKeyFileBeside(dataDir),
    BERTH_TOKENS: "bench:bench-token-0123456789",
    BERTH_DEFAULT_MEMORY_MB: "64",
    ...RATE_LIMITS_OFF,
    ...QUOTAS_OFF, // 100 containers for one owner
  });
  const port = berth.port;
  const berthPid = berth.child.pid!;
  const client: Socket = io(`http://127.0.0.1:${port}`, {
    auth: { token: "bench-token-0123456789" },
    transports: ["websocket"],
  });
  await new Promise<void>((r) => client.once("connect", () => r()));
  const docker = new Dockerode({ socketPath: "/var/run/docker.sock" });
  const echo = await readFile(new URL("../test/fixtures/workloads/echo.js", import.meta.url), "utf8");
  const ack = async (event: string, payload: unknown) => {
    const res = await client.timeout(120_000).emitWithAck(event, payload);
    if (!res.ok) throw new Error(`${event}: ${JSON.stringify(res.error)}`);
    return res.data;
  };
  const createMany = async (from: number, to: number) => {
    const ids: string[] = [];
    for (let i = from; i < to; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, to - i) }, (_, k) =>
          ack("container:create", { name: `idle-${i + k}`, code: { files: { "index.js": echo } } }),
        ),
      );
      ids.push(...batch.map((c: { id: string }) => c.id));
    }
    return ids;
  };
  const listLatency = async () => {
    const samples: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      await ack("container:list", { limit: 500 });
      samples.push(performance.now() - t);
    }
    return samples;
  };

  try {
    process.stderr.write(`creating ${CONTAINERS} idle containers…\n`);
    const ids = await createMany(0, CONTAINERS);
    const dockerIds = await Promise.all(
      ids.map(async (id) => (await docker.getContainer(`berth-${id}`).inspect()).Id),
    );
    await new Promise((r) => setTimeout(r, 3000)); // let the starts settle
    process.stderr.write("idle: 100 containers, nothing sampled…\n");
    const idle = await measureCpu(
      berthPid,
      engineDaemons,
      () => new Promise((r) => setTimeout(r, WINDOW_MS / 2)),
    );

    /** berth's CPU over a window while `subscribe` has it push samples; counts them with `count`. */
    const samplingWindow = async (
      event: "container:resource_usage" | "containers:resource_usage",
      count: (payload: { samples?: unknown[] }) => number,
      subscribe: () => Promise<unknown>,
      unsubscribe: () => Promise<unknown>,
    ) => {
      let samples = 0;
      client.on(event, (payload: { samples?: unknown[] }) => {
        samples += count(payload);
      });
      await subscribe();
      await new Promise((r) => setTimeout(r, 2000));
      samples = 0;
      const share = await measureCpu(
        berthPid,
        engineDaemons,
        () => new Promise((r) => setTimeout(r, WINDOW_MS)),
      );
      const rate = samples / (WINDOW_MS / 1000);
      await unsubscribe();
      client.off(event);
      return { share, rate };
    };

    process.stderr.write("(a) berth sampling every container at 1 Hz…\n");
    const { share: berthShare, rate: pushRate } = await samplingWindow(
      "container:resource_usage",
      () => 1,
      () => Promise.all(ids.map((id) => ack("container:watch_stats", { id, intervalMs: 1000 }))),
      () => Promise.all(ids.map((id) => ack("container:unwatch_stats", { id }))),
    );

    process.stderr.write("(a') berth's overview: one subscription, every container at 1 Hz…\n");
    const { share: overviewShare, rate: overviewRate } = await samplingWindow(
      "containers:resource_usage",
      (payload) => payload.samples?.length ?? 0,
      () => ack("containers:watch_stats", { intervalMs: 1000 }),
      () => ack("containers:unwatch_stats", {}),
    );

    process.stderr.write("(b) engine stats API, stream: false, per container per second…\n");
    // One call per container per second, as a poller on a timer makes them: each call waits about a
    // second inside the engine (stream: false takes two readings), so calls overlap; at most three per
    // container are left outstanding, so that a slow engine is not buried.
    let calls = 0;
    const engineStarted = performance.now();
    const engineShare = await measureCpu("self", engineDaemons, async () => {
      const outstanding = new Map<string, number>();
      const inFlight = new Set<Promise<unknown>>();
      const deadline = performance.now() + WINDOW_MS;
      while (performance.now() < deadline) {
        const tick = performance.now();
        for (const d of dockerIds) {
          if ((outstanding.get(d) ?? 0) >= 3) continue;
          outstanding.set(d, (outstanding.get(d) ?? 0) + 1);
          const call = docker
            .getContainer(d)
            .stats({ stream: false })
            .then(() => calls++)
            .finally(() => {
              outstanding.set(d, (outstanding.get(d) ?? 1) - 1);
              inFlight.delete(call);
            });
          inFlight.add(call);
        }
        const rest = 1000 - (performance.now() - tick);
        if (rest > 0) await new Promise((r) => setTimeout(r, rest));
      }
      await Promise.allSettled([...inFlight]);
    });
    const engineEnded = performance.now();

    process.stderr.write("(c) container:list latency…\n");
    const list100 = await listLatency();
    await createMany(CONTAINERS, 2 * CONTAINERS);
    const list200 = await listLatency();

    const engineRate = calls / ((engineEnded - engineStarted) / 1000);
    const berthCpu = berthShare.total;
    const engineCpu = engineShare.total;
    const split = (c: CpuShare) => `${c.self.toFixed(1)}% + ${c.engine.toFixed(1)}%`;
    console.log(`\n### monitor: ${CONTAINERS} idle containers, ${WINDOW_MS / 1000} s windows\n`);
    console.log(
      "| what | CPU (% of one core) | berth, or the polling client in (b) + dockerd & containerd | samples/s |",
    );
    console.log("|---|---|---|---|");
    console.log(`| idle: no sampling | ${idle.total.toFixed(1)}% | ${split(idle)} | 0 |`);
    console.log(
      `| (a) berth, cgroup sampling at 1 Hz | ${berthCpu.toFixed(1)}% | ${split(berthShare)} | ${pushRate.toFixed(0)} |`,
    );
    console.log(
      `| (a') berth, the same as one overview subscription (\`containers:watch_stats\`) | ${overviewShare.total.toFixed(1)}% | ${split(overviewShare)} | ${overviewRate.toFixed(0)} |`,
    );
    console.log(
      `| (b) engine stats API, stream: false, 1 Hz | ${engineCpu.toFixed(1)}% | ${split(engineShare)} | ${engineRate.toFixed(0)} |`,
    );
    console.log(`| ratio (a)/(b) | ${(berthCpu / engineCpu).toFixed(3)} | | |`);
    console.log(`| ratio (a')/(b) | ${(overviewShare.total / engineCpu).toFixed(3)} | | |`);
    console.log(
      `| ratio per sample (a)/(b) | ${(berthCpu / pushRate / (engineCpu / engineRate)).toFixed(3)} | | |`,
    );
    console.log("\n| container:list | p50 | p95 |\n|---|---|---|");
    for (const [n, s] of [
      [100, list100],
      [200, list200],
    ] as const) {
      console.log(
        `| ${n} containers | ${percentile(s, 50).toFixed(2)} ms | ${percentile(s, 95).toFixed(2)} ms |`,
      );
    }
    const targets = [
      ["(a) ≤ 5% of one core", berthCpu <= 5],
      ["(a) ≤ 0.1 × (b)", berthCpu <= 0.1 * engineCpu],
      ["(a') ≤ 0.1 × (b)", overviewShare.total <= 0.1 * engineCpu],
      ["(c) p95 < 20 ms at 200", percentile(list200, 95) < 20],
    ] as const;
    console.log("\n| target | result |\n|---|---|");
    for (const [what, pass] of targets) console.log(`| ${what} | ${pass ? "PASS" : "FAIL"} |`);
  } finally {
    client.disconnect();
    const instance = berth.instanceId;
    await berth.stop();
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`berth.instance=${instance}`] },
    });
    for (let i = 0; i < left.length; i += 20) {
      await Promise.all(left.slice(i, i + 20).map((c) => docker.getContainer(c.Id).remove({ force: true })));
    }
    await rm(dataDir, { recursive: true, force: true });
    await rm(secretKeyFileBeside(dataDir), { force: true });
  }
}
