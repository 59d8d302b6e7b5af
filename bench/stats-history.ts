import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { io, type Socket } from "socket.io-client";
import type { ResourceUsage } from "../packages/client/src/index.ts";
import { SampleRing } from "../src/monitoring/sample-ring.ts";
import { QUOTAS_OFF, RATE_LIMITS_OFF } from "./admission-env.ts";
import { BerthChild } from "./berth-child.ts";
import { CLK_TCK, cpuTicks } from "./proc-stat.ts";
import { secretKeyFileBeside } from "./secret-key-file.ts";

/**
 * The cost of the resource-sample history (BERTH_STATS_HISTORY_INTERVAL_MS),
 * which samples every running container always, watched or not: 100 idle
 * containers, berth restarted on the same data directory with the history off
 * (0) and on (the default 5 s), alternating rounds, nobody connected. CPU of
 * berth, and of dockerd + containerd, from /proc over the same wall time; the
 * memory of a full history (10 minutes of samples for each container) is
 * measured in this process, as filling it in berth would take 10 minutes.
 */
const CONTAINERS = 100;
const WINDOW_MS = 30_000;
const SETTLE_MS = 8_000;
const ROUNDS = 2;

function pidsOf(name: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => {
      if (!/^\d+$/.test(entry)) return false;
      try {
        return readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name;
      } catch {
        return false; // the process ended while we looked
      }
    })
    .map(Number);
}

/** % of one core used by berth and by the engine's daemons over `ms`. */
async function cpuOver(berthPid: number, enginePids: number[], ms: number) {
  const berth0 = cpuTicks(berthPid);
  const engine0 = enginePids.map(cpuTicks);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const wall = performance.now() - t0;
  const pct = (ticks: number) => ((ticks * 1000) / CLK_TCK / wall) * 100;
  return {
    berth: pct(cpuTicks(berthPid) - berth0),
    engine: pct(enginePids.map(cpuTicks).reduce((sum, t, i) => sum + t - engine0[i]!, 0)),
  };
}

/** Bytes of heap that `CONTAINERS` full histories hold, after a GC (needs --expose-gc; NaN without). */
function historyHeapBytes(capacity: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return Number.NaN;
  gc();
  const before = process.memoryUsage().heapUsed;
  const rings: SampleRing<ResourceUsage>[] = [];
  for (let c = 0; c < CONTAINERS; c++) {
    const ring = new SampleRing<ResourceUsage>(capacity);
    for (let i = 0; i < capacity; i++) {
      ring.push({
        cpuPercent: Math.random() * 100,
        memoryBytes: 40_000_000 + i,
        memoryLimitBytes: 67_108_864,
        pids: 7,
        netRxBytes: i * 1000,
        netTxBytes: i * 1000,
        blockReadBytes: 0,
        blockWriteBytes: 0,
        ts: Date.now() + i,
      });
    }
    rings.push(ring);
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  if (rings.length !== CONTAINERS) throw new Error("unreachable");
  return after - before;
}

export async function run(): Promise<void> {
  const engineDaemons = [...pidsOf("dockerd"), ...pidsOf("containerd")];
  const dataDir = await mkdtemp(join(tmpdir(), "bh-"));
  const env = (intervalMs: number) => ({
    BERTH_DATA_DIR: dataDir,
    BERTH_SECRET_KEY_FILE: secretKeyFileBeside(dataDir),
    BERTH_TOKENS: "bench:bench-token-0123456789",
    BERTH_DEFAULT_MEMORY_MB: "64",
    BERTH_STATS_HISTORY_INTERVAL_MS: String(intervalMs),
    ...RATE_LIMITS_OFF,
    ...QUOTAS_OFF,
  });
  const docker = new Dockerode({ socketPath: "/var/run/docker.sock" });
  let berth = await BerthChild.spawn(env(0));
  const instance = berth.instanceId;
  try {
    const client: Socket = io(`http://127.0.0.1:${berth.port}`, {
      auth: { token: "bench-token-0123456789" },
      transports: ["websocket"],
    });
    await new Promise<void>((r) => client.once("connect", () => r()));
    const echo = await readFile(new URL("../test/fixtures/workloads/echo.js", import.meta.url), "utf8");
    process.stderr.write(`creating ${CONTAINERS} idle containers…\n`);
    for (let i = 0; i < CONTAINERS; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, CONTAINERS - i) }, async (_, k) => {
          const res = await client.timeout(120_000).emitWithAck("container:create", {
            name: `idle-${i + k}`,
            code: { files: { "index.js": echo } },
          });
          if (!res.ok) throw new Error(`create: ${JSON.stringify(res.error)}`);
        }),
      );
    }
    client.disconnect();

    const results: Record<"off" | "on", { berth: number[]; engine: number[] }> = {
      off: { berth: [], engine: [] },
      on: { berth: [], engine: [] },
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ["off", "on"] as const) {
        await berth.stop();
        berth = await BerthChild.spawn(env(mode === "on" ? 5_000 : 0));
        await new Promise((r) => setTimeout(r, SETTLE_MS)); // adoption done, the first samples taken
        process.stderr.write(`round ${round + 1}, history ${mode}…\n`);
        const share = await cpuOver(berth.child.pid!, engineDaemons, WINDOW_MS);
        results[mode].berth.push(share.berth);
        results[mode].engine.push(share.engine);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const capacity = 600_000 / 5_000;
    const heap = historyHeapBytes(capacity);
    console.log(
      `\n### stats history: ${CONTAINERS} idle containers, ${WINDOW_MS / 1000} s windows, ${ROUNDS} rounds each\n`,
    );
    console.log("| history | berth CPU (% of one core) | dockerd + containerd |\n|---|---|---|");
    for (const mode of ["off", "on"] as const) {
      const r = results[mode];
      console.log(
        `| ${mode === "on" ? "on, one sample per container every 5 s" : "off (0)"} | ${mean(r.berth).toFixed(2)}% (${r.berth.map((x) => x.toFixed(2)).join(", ")}) | ${mean(r.engine).toFixed(2)}% |`,
      );
    }
    console.log(
      `\nA full history (${capacity} samples × ${CONTAINERS} containers): ${(heap / 1024 / 1024).toFixed(2)} MiB of heap (${(heap / CONTAINERS / capacity).toFixed(0)} bytes a sample).`,
    );
  } finally {
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
