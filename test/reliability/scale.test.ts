import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "#protocol";
import { BerthChild } from "../../bench/berth-child.ts";
import { percentile } from "../../bench/stats.ts";
import { connect as connectClient } from "../../packages/client/src/index.ts";
import { secretKeyFileBeside } from "../helpers/berth-process.ts";
import { availableMemory, engineMemory, threads } from "../helpers/engine-memory.ts";
import { removeInstanceFrom } from "../helpers/instance-holdings.ts";
import { type PrivateEngine, startPrivateEngine } from "../helpers/private-engine.ts";
import { reportReliability } from "../helpers/reliability-report.ts";
import { ADMISSION_OFF, type Client, call } from "../helpers/test-server.ts";

/**
 * How many idle workloads one berth holds on this machine: idle echo
 * workloads are created in steps (10, 100, 300, then +200) on a private
 * engine (so that the engine's memory is this test's alone, and the shared
 * engine's other tests do not wait behind it), until something gives — a
 * create that fails, a step that takes too long — or a safe bound is near:
 * 1,000 workloads, less than 4 GiB of memory left, or the machine's threads
 * at 70 % of kernel.pid_max (every workload's threads and its shim's count
 * against it, and other tests share the machine). At each step: the create
 * rate, `container:list` (every page) and channel request latency across the
 * workloads, berth's RSS per workload (after a forced GC), the engine's
 * (dockerd and containerd, and the shims) and the workloads' own memory per
 * workload. Quotas and rate limits are set out of the way explicitly. Every
 * workload made is listed, runs and answers; all are deleted at the end
 * (through berth, in parallel) and nothing is left; the private engine goes
 * with everything in it even when the test fails.
 *
 * `npm test` runs a smoke of the measuring code (steps of 2 and 4);
 * `BERTH_SOAK=1` the real curve.
 */
const SOAK = process.env.BERTH_SOAK === "1";
const STEPS = SOAK ? [10, 100, 300, 500, 700, 900, 1000] : [2, 4];
const MIN_AVAILABLE_BYTES = 4 * 2 ** 30;
const THREADS_SHARE = 0.7;
const STEP_LIMIT_MS = SOAK ? 8 * 60_000 : 120_000;
/** Creates the test keeps in flight: enough to keep berth's engine queue (4 at once) full. */
const CREATES_AT_ONCE = 8;
const REQUESTS_PER_STEP = SOAK ? 400 : 20;
const LISTS_PER_STEP = 5;

const ADMIN_TOKEN = "scale-admin-token-0123456789";
const OWNER_TOKEN = "scale-owner-token-0123456789";

const LIMITS: Record<string, string> = {
  ...ADMISSION_OFF,
  BERTH_ENGINE_CONCURRENCY: "4",
  BERTH_MAX_CONNECTIONS_PER_OWNER: "0",
  BERTH_HANDSHAKES_PER_MINUTE: "0",
  BERTH_MAX_REQUESTS_IN_FLIGHT: "1024",
  BERTH_READY_TIMEOUT_MS: "60000",
  BERTH_STOP_TIMEOUT_SEC: "2",
};

interface Step {
  workloads: number;
  createPerSecond: number;
  listMs: number;
  requestP50Ms: number;
  requestP99Ms: number;
  requestErrors: number;
  berthRssBytes: number;
  daemonsBytes: number;
  shimsBytes: number;
  workloadsBytes: number;
  threads: number;
  availableBytes: number;
}

const MiB = 2 ** 20;
const mib = (bytes: number, digits = 0) => (bytes / MiB).toFixed(digits);

/** Runs `work` over `items` with at most `atOnce` under way. */
async function pool<T>(items: readonly T[], atOnce: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: atOnce }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

describe(`idle workloads one berth holds, in steps of ${STEPS.join(", ")}`, () => {
  let engine: PrivateEngine | undefined;
  let berth: BerthChild | undefined;
  let dataDir: string | undefined;
  let client: Client | undefined;
  // A worker that ends without afterAll must not leave berth running: an exit hook for a worker that
  // exits, and berth's own watch of its parent (bench/end-with-parent.ts) for one killed by a signal;
  // the engine has its own hook.
  const killBerth = () => berth?.child.kill("SIGKILL");
  process.once("exit", killBerth);

  afterAll(async () => {
    await client?.close();
    await berth?.stop();
    if (engine && berth) await removeInstanceFrom(engine.docker, berth.instanceId);
    await engine?.destroy();
    if (dataDir) {
      await rm(dataDir, { recursive: true, force: true });
      await rm(secretKeyFileBeside(dataDir), { force: true });
    }
    process.off("exit", killBerth);
  });

  it("holds every workload it made, measured at each step, until something gives or a safe bound; then removes all", async () => {
    engine = await startPrivateEngine();
    const engineRoot = dirname(engine.socketPath);
    dataDir = await mkdtemp(join(tmpdir(), "bs-"));
    berth = await BerthChild.spawn({
      ...LIMITS,
      BERTH_DATA_DIR: dataDir,
      BERTH_SECRET_KEY_FILE: secretKeyFileBeside(dataDir),
      BERTH_DOCKER_SOCKET: engine.socketPath,
      BERTH_TOKENS: `scale:${OWNER_TOKEN}`,
      BERTH_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    const url = `http://127.0.0.1:${berth.port}`;
    client = await connectClient(url, { token: OWNER_TOKEN, reconnect: false });
    const owner = client;
    const echo = await readFile(new URL("../fixtures/workloads/echo.js", import.meta.url), "utf8");
    const code = { files: { "index.js": echo } };
    const rssBefore = (await berth.memory()).rssBytes;
    const engineBefore = await engineMemory(engineRoot, []);

    const made: string[] = [];
    const steps: Step[] = [];
    const createErrors: string[] = [];
    let gave: string | undefined;

    /** A reason to stop before the machine runs short, or undefined. */
    async function nearBound(): Promise<string | undefined> {
      const available = await availableMemory();
      if (available < MIN_AVAILABLE_BYTES)
        return `memory: ${mib(available)} MiB available, under the 4 GiB kept free`;
      const t = await threads();
      if (t.now > THREADS_SHARE * t.max)
        return `threads: ${t.now} on the machine, over ${THREADS_SHARE * 100} % of kernel.pid_max (${t.max})`;
      return undefined;
    }

    for (const target of STEPS) {
      const stepStarted = performance.now();
      const deadline = Date.now() + STEP_LIMIT_MS;
      const before = made.length;
      let stop: string | undefined;
      let next = made.length;
      await Promise.all(
        Array.from({ length: CREATES_AT_ONCE }, async () => {
          while (next < target && createErrors.length === 0 && stop === undefined) {
            if (Date.now() > deadline) {
              stop = `time: step to ${target} not done within ${STEP_LIMIT_MS / 1000} s`;
              break;
            }
            const i = next++;
            if (i % 10 === 0) stop ??= await nearBound();
            if (stop !== undefined) break;
            const res = await call(owner, "container:create", { name: `scale-${i}`, code }, 180_000);
            if (res.ok) made.push(res.data.id);
            else createErrors.push(`${res.error.code} at workload ${i + 1}: ${res.error.message}`);
          }
        }),
      );
      const createSeconds = (performance.now() - stepStarted) / 1000;

      // The listing, every page, as a dashboard would read it.
      const listMs: number[] = [];
      for (let i = 0; i < LISTS_PER_STEP; i++) {
        const t0 = performance.now();
        const ids: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await call(owner, "container:list", { limit: 500, ...(cursor ? { cursor } : {}) });
          if (!page.ok) throw new Error(`list: ${JSON.stringify(page.error)}`);
          ids.push(...page.data.items.map((c) => c.id));
          cursor = page.data.nextCursor ?? undefined;
        } while (cursor);
        listMs.push(performance.now() - t0);
        expect(ids.sort()).toEqual([...made].sort());
      }

      // Requests across the workloads, a few at once.
      const requestMs: number[] = [];
      let requestErrors = 0;
      const picks = Array.from(
        { length: REQUESTS_PER_STEP },
        (_, i) => made[(i * 7919) % made.length] as string,
      );
      await pool(picks, 8, async (id) => {
        const t0 = performance.now();
        const res = await call(owner, "container:request", { id, data: "ping" });
        requestMs.push(performance.now() - t0);
        if (!res.ok || res.data !== "ping") requestErrors++;
      });

      const memory = await engineMemory(engineRoot, await engineIds());
      steps.push({
        workloads: made.length,
        createPerSecond: (made.length - before) / createSeconds,
        listMs: percentile(listMs, 50),
        requestP50Ms: percentile(requestMs, 50),
        requestP99Ms: percentile(requestMs, 99),
        requestErrors,
        berthRssBytes: (await berth.memory()).rssBytes,
        daemonsBytes: memory.daemonsBytes,
        shimsBytes: memory.shimsBytes,
        workloadsBytes: memory.workloadsBytes,
        threads: (await threads()).now,
        availableBytes: await availableMemory(),
      });
      process.stdout.write(`scale: ${row(steps.at(-1) as Step)}\n`);
      if (createErrors.length > 0) gave = `a create failed: ${createErrors[0]}`;
      else if (requestErrors > 0)
        gave = `requests failed: ${requestErrors} of ${REQUESTS_PER_STEP} at ${made.length}`;
      else gave = stop;
      if (gave) break;
    }

    /** The engine's ids of this berth's containers. */
    async function engineIds(): Promise<string[]> {
      const list = await (engine as PrivateEngine).docker.listContainers({
        all: true,
        filters: { label: [`berth.instance=${(berth as BerthChild).instanceId}`] },
      });
      return list.map((c) => c.Id);
    }

    // In the smoke, nothing may give; in the soak, whatever gave did so with a documented answer.
    if (!SOAK)
      expect({ createErrors, requestErrors: steps.map((s) => s.requestErrors) }).toEqual({
        createErrors: [],
        requestErrors: steps.map(() => 0),
      });
    // Every workload made runs in the engine.
    for (const e of createErrors) expect((e.split(" ")[0] as string) in ERROR_CODES, e).toBe(true);
    const running = await engine.docker.listContainers({
      filters: { label: [`berth.instance=${berth.instanceId}`], status: ["running"] },
    });
    expect(running.length).toBe(made.length);

    // All deleted through berth, in parallel; nothing left.
    const deleteStarted = performance.now();
    const deleteErrors: string[] = [];
    await pool([...made], CREATES_AT_ONCE * 2, async (id) => {
      const res = await call(owner, "container:delete", { id }, 180_000);
      if (!res.ok) deleteErrors.push(JSON.stringify(res.error));
    });
    const deletePerSecond = made.length / ((performance.now() - deleteStarted) / 1000);
    expect(deleteErrors).toEqual([]);
    expect(await engineIds()).toEqual([]);

    const last = steps.at(-1) as Step;
    const pidMax = (await threads()).max;
    const verdict = gave ?? `nothing gave up to ${last.workloads} (the bound of this run)`;
    const measured = [
      "| workloads | creates/s | list ms | request p50/p99 ms | berth RSS MiB (KiB per workload) | dockerd+containerd MiB | shims MiB/workload | workloads MiB/workload | threads | free GiB |",
      ...steps.map(row),
      `berth idle ${mib(rssBefore)} MiB, engine daemons idle ${mib(engineBefore.daemonsBytes)} MiB; deleted at ${deletePerSecond.toFixed(1)}/s. Gave first: ${verdict}. ${projection()}`,
    ].join("\n");
    process.stdout.write(`scale: ${verdict}; deleted at ${deletePerSecond.toFixed(1)}/s\n`);

    /**
     * Where the machine's bounds would come, at the rates of the last step
     * (threads and memory per workload from the first step to the last), so
     * that a run stopped by its own bound still names what would give next.
     */
    function projection(): string {
      const first = steps[0] as Step;
      const added = last.workloads - first.workloads;
      if (added <= 0) return "";
      const threadsEach = (last.threads - first.threads) / added;
      const bytesEach = (first.availableBytes - last.availableBytes) / added;
      const byThreads = last.workloads + Math.floor((pidMax - last.threads) / threadsEach);
      const byMemory = last.workloads + Math.floor((last.availableBytes - MIN_AVAILABLE_BYTES) / bytesEach);
      return `Projected: ${threadsEach.toFixed(1)} threads and ${mib(bytesEach, 1)} MiB of the machine's memory per workload, so kernel.pid_max (${pidMax}) at about ${byThreads} workloads and 4 GiB left at about ${byMemory}.`;
    }

    function row(s: Step): string {
      const perWorkload = (bytes: number) => mib(bytes / Math.max(1, s.workloads), 1);
      return `| ${s.workloads} | ${s.createPerSecond.toFixed(1)} | ${s.listMs.toFixed(1)} | ${s.requestP50Ms.toFixed(1)}/${s.requestP99Ms.toFixed(1)} | ${mib(s.berthRssBytes)} (${((s.berthRssBytes - rssBefore) / Math.max(1, s.workloads) / 1024).toFixed(0)}) | ${mib(s.daemonsBytes)} | ${perWorkload(s.shimsBytes)} | ${perWorkload(s.workloadsBytes)} | ${s.threads} | ${(s.availableBytes / 2 ** 30).toFixed(1)} |`;
    }

    await reportReliability(import.meta.filename, {
      id: "scale",
      test: "Idle workloads one berth holds",
      did: `idle echo workloads in steps of ${STEPS.join(", ")} on a private engine, up to ${last.workloads}; ${REQUESTS_PER_STEP} requests and ${LISTS_PER_STEP} full listings per step`,
      measured,
      invariants:
        "every workload made is listed, runs in the engine and answers; any refusal a documented code; all deleted through berth, nothing left in the engine",
    });
  }, 3_600_000);
});
