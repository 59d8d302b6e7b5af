import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import Dockerode from "dockerode";
import { io } from "socket.io-client";
import { Berth } from "../src/berth.ts";
import { loadConfig } from "../src/config/config.ts";
import { RATE_LIMITS_OFF } from "./admission-env.ts";
import { BERTH_NODE_FLAGS } from "./berth-child.ts";
import { berthHub } from "./berth-hub.ts";
import { type AfterWait, measureAfterWait } from "./channel-after-wait.ts";
import { type CapCells, measureCap } from "./channel-cap.ts";
import { type MemoryRun, measureMemory } from "./channel-memory.ts";
import { measureExec, measurePaths, notes } from "./channel-paths.ts";
import { measureReady, type ReadyTimes } from "./channel-ready.ts";
import { type Cell, duration, pathTable, rate, ratio, table } from "./channel-report.ts";
import { Cleanup, removeLabelled } from "./cleanup.ts";
import { SDK_ECHO_WORKLOAD } from "./echo-workload.ts";
import { perSecond } from "./load.ts";
import { NdjsonFloor } from "./ndjson-floor.ts";
import { secretKeyFileBeside } from "./secret-key-file.ts";
import { SocketIoEcho } from "./socketio-echo.ts";
import { percentile, printTable } from "./stats.ts";

/**
 * Channel: what it costs to talk to a workload through berth, in one run.
 *  (a)  the floor: raw NDJSON over a Unix socket to an echo peer in a child process;
 *  (c') the Socket.IO floor: a plain socket.io server echoing acknowledgements;
 *  (b)  berth's hub: SocketCommunicationHandler.request() to an SDK echo container;
 *  (c)  the full path: socket.io-client → berth `container:request` → workload → back;
 *  (c-cap) the same with 64 in flight through two fresh berths, one with the default cap on
 *       requests in flight per connection and one without;
 *  (d)  `docker exec … node -e`, what users would otherwise reach for;
 *  (e)  create-until-ready, through berth beside dockerode + a bare socket;
 * and berth's resident memory and CPU over a million requests, with berth's
 * heap flags (config.nodeFlags) and with V8's defaults. Ends with the targets.
 */
const ROUNDS = 5;
const READY_ROUNDS = 20;
const MEMORY_REQUESTS = 1_000_000;
const TOKEN = "bench-token-0123456789";
const execFileP = promisify(execFile);

const progress = (line: string) => process.stderr.write(`[channel] ${line}\n`);

interface LatencyPhase {
  cells: Map<string, Cell[]>;
  exec: Cell[];
  ready: ReadyTimes;
  afterWait: AfterWait;
  cap: CapCells;
}

async function latencyPhase(): Promise<LatencyPhase> {
  const cleanup = new Cleanup();
  try {
    const dataDir = await mkdtemp(join(tmpdir(), "bc-"));
    cleanup.add("remove the data dir", () => rm(dataDir, { recursive: true, force: true }));
    cleanup.add("remove the key file", () => rm(secretKeyFileBeside(dataDir), { force: true }));
    const config = loadConfig({
      BERTH_DATA_DIR: dataDir,
      BERTH_SECRET_KEY_FILE: secretKeyFileBeside(dataDir),
      BERTH_PORT: "0",
      BERTH_LOG_LEVEL: "warn",
      BERTH_TOKENS: `bench:${TOKEN}`,
      ...RATE_LIMITS_OFF,
    });
    const docker = new Dockerode({ socketPath: config.dockerSocket });
    const berth = await Berth.open(config, { logDestination: new PassThrough().resume() });
    const directLabel = `direct-${berth.instanceId}`;
    cleanup.add("remove direct containers", () => removeLabelled(docker, `berth.instance=${directLabel}`));
    cleanup.add("remove berth's containers", () =>
      removeLabelled(docker, `berth.instance=${berth.instanceId}`),
    );
    cleanup.add("close berth", () => berth.close());
    const port = await berth.start();
    const client = io(`http://127.0.0.1:${port}`, { auth: { token: TOKEN }, transports: ["websocket"] });
    cleanup.add("disconnect", () => client.disconnect());
    await new Promise<void>((r) => client.once("connect", () => r()));
    const ack = async (event: string, payload: unknown) => {
      const res = await client.timeout(60_000).emitWithAck(event, payload);
      if (!res.ok) throw new Error(`${event}: ${JSON.stringify(res.error)}`);
      return res.data;
    };

    const { id } = await ack("container:create", {
      name: "echo",
      code: { files: { "index.js": SDK_ECHO_WORKLOAD } },
    });
    const hub = await berthHub({ berth, berthContainerId: id, docker, config, root: dataDir, cleanup });
    const floor = await NdjsonFloor.start(dataDir);
    cleanup.add("stop the floor", () => floor.close());
    const sio = await SocketIoEcho.start();
    cleanup.add("stop the Socket.IO echo", () => sio.close());
    progress("set up; measuring (a), (c'), (b), (c)");

    const cells = await measurePaths(
      [
        { key: "a", call: (data) => floor.call(data) },
        { key: "c'", call: (data) => sio.call(data) },
        { key: "b", call: hub.call },
        {
          key: "c",
          call: async (data) => {
            const res = await client.emitWithAck("container:request", { id, data });
            if (!res.ok) throw new Error(`${res.error.code}: ${res.error.message}`);
            return res.data;
          },
        },
      ],
      ROUNDS,
      progress,
    );
    const floorCells = cells.get("a")!;
    pathTable("(a) floor: raw NDJSON over a Unix socket, echo peer in a child node process", floorCells);
    pathTable(
      "(c') raw Socket.IO acknowledgement, websocket transport, loopback",
      cells.get("c'")!,
      floorCells,
    );
    pathTable(
      "(b) berth → workload: SocketCommunicationHandler.request() → SDK echo container",
      cells.get("b")!,
      floorCells,
    );
    pathTable(
      "(c) full path: socket.io-client `container:request` → berth → workload → back",
      cells.get("c")!,
      floorCells,
    );
    notes("(b) how the hub was reached", [hub.how]);
    progress("measuring (c') right after a wait for the workload");
    const afterWait = await measureAfterWait((data) => sio.call(data), hub.call);

    progress("measuring (d) docker exec");
    const exec = await measureExec({
      key: "d",
      call: async (data) => {
        const script = "process.stdout.write(process.argv[1])";
        const { stdout } = await execFileP(
          "docker",
          ["exec", `berth-${id}`, "node", "-e", script, JSON.stringify(data)],
          {
            maxBuffer: 1 << 20,
          },
        );
        return JSON.parse(stdout);
      },
    });
    pathTable(
      "(d) `docker exec berth-<id> node -e 'process.stdout.write(process.argv[1])' <json>` (CLI)",
      exec,
      floorCells,
    );

    progress("measuring (e) create-until-ready");
    const ready = await measureReady({
      rounds: READY_ROUNDS,
      ack,
      docker,
      config,
      root: join(dataDir, "direct"),
      instanceLabel: directLabel,
    });
    printTable(
      `(e) create until the workload's hello: ${READY_ROUNDS} rounds, berth vs dockerode + bare socket`,
      "ms",
      [{ what: "create + start until hello", berth: ready.berth, baseline: ready.direct }],
      [50, 95],
    );
    progress("measuring (c-cap) the cap on requests in flight");
    const cap = await measureCap(progress);
    pathTable(
      "(c-cap) the full path, 64 in flight, through a berth with the default cap on requests in flight per connection",
      cap.capped,
      floorCells,
    );
    pathTable(
      "(c-cap) … and through a berth without it (BERTH_MAX_REQUESTS_IN_FLIGHT=0), in turns with the one above",
      cap.off,
      floorCells,
    );
    return { cells, exec, ready, afterWait, cap };
  } finally {
    await cleanup.run();
  }
}

function memoryTable(run: MemoryRun): void {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  table(
    `memory: berth as a child process (src/main.ts) with ${run.nodeFlags ? `\`${run.nodeFlags}\`` : "V8's default heap settings"}, path (c), 64 in flight, 100 B payload — ${rate((run.readings.at(-1)!.requests * 1000) / run.elapsedMs)} req/s overall, ${run.errors} errors${run.firstError ? ` (${run.firstError})` : ""}`,
    [
      "after request",
      "VmRSS (median of 3, after GC)",
      "V8 heap used",
      "V8 heap total",
      "external",
      "berth CPU per request",
    ],
    run.readings.map((r, i) => [
      r.requests.toLocaleString("en"),
      mib(r.memory.rssBytes),
      mib(r.memory.heapUsedBytes),
      mib(r.memory.heapTotalBytes),
      mib(r.memory.externalBytes),
      i === 0 ? "" : `${cpuPerRequest(run.readings[i - 1]!, r).toFixed(1)} µs`,
    ]),
  );
}

type Reading = MemoryRun["readings"][number];

/** berth's CPU time per request between two readings, in microseconds. */
function cpuPerRequest(from: Reading, to: Reading): number {
  return ((to.memory.cpuSeconds - from.memory.cpuSeconds) * 1e6) / (to.requests - from.requests);
}

/** RSS growth from request 100,000 to the last reading, as a fraction. */
function rssGrowth(run: MemoryRun): { growth: number; from: number; to: number } {
  const from = run.readings.find((r) => r.requests === 100_000)!.memory.rssBytes;
  const to = run.readings.at(-1)!.memory.rssBytes;
  return { growth: (to - from) / from, from, to };
}

function targets(phase: LatencyPhase, memory: MemoryRun, defaults: MemoryRun): void {
  const cell = (key: string, payload: string, inFlight: number) =>
    phase.cells.get(key)!.find((c) => c.payload === payload && c.inFlight === inFlight)!;
  const p50 = (c: Cell) => percentile(c.result.latenciesMs, 50);
  const rows: string[][] = [];
  const verdict = (ok: boolean) => (ok ? "PASS" : "**FAIL**");
  for (const payload of ["100 B", "64 KiB"]) {
    const c = p50(cell("c", payload, 1));
    const limit = 1.5 * (p50(cell("c'", payload, 1)) + p50(cell("a", payload, 1)));
    rows.push([
      `(c) p50, one at a time, ${payload} ≤ 1.5 × ((c') p50 + (a) p50)`,
      duration(c),
      `≤ ${duration(limit)}`,
      ratio(c, limit / 1.5),
      verdict(c <= limit),
    ]);
  }
  // Not a target: the same limit with (c') timed as (c) meets it, right after a wait for the workload.
  const { hotMs, afterWaitMs } = phase.afterWait;
  const c100 = p50(cell("c", "100 B", 1));
  const a100 = p50(cell("a", "100 B", 1));
  rows.push([
    `(info) (c') p50 right after a wait for the workload, vs back to back`,
    `${duration(afterWaitMs)} vs ${duration(hotMs)}`,
    "",
    ratio(afterWaitMs, hotMs),
    "info",
  ]);
  rows.push([
    `(info) (c) p50, one at a time, 100 B, against 1.5 × ((c') after a wait + (a))`,
    duration(c100),
    `≤ ${duration(1.5 * (afterWaitMs + a100))}`,
    ratio(c100, afterWaitMs + a100),
    "info",
  ]);
  for (const payload of ["100 B", "64 KiB"]) {
    const c = perSecond(cell("c", payload, 64).result);
    const limit = 0.6 * perSecond(cell("c'", payload, 64).result);
    rows.push([
      `(c) req/s, 64 in flight, ${payload} ≥ 0.6 × (c') acks/s`,
      rate(c),
      `≥ ${rate(limit)}`,
      ratio(c, limit / 0.6),
      verdict(c >= limit),
    ]);
  }
  for (const payload of ["100 B", "64 KiB"]) {
    const capped = phase.cap.capped.find((c) => c.payload === payload)!;
    const off = phase.cap.off.find((c) => c.payload === payload)!;
    const [c, o] = [perSecond(capped.result), perSecond(off.result)];
    rows.push([
      `(c-cap) req/s, 64 in flight, ${payload}, with the default cap on requests in flight ≥ 0.9 × without`,
      `${rate(c)} vs ${rate(o)}${capped.result.errors ? ` (${capped.result.errors} errors)` : ""}`,
      `≥ ${rate(0.9 * o)}`,
      ratio(c, o),
      verdict(c >= 0.9 * o && capped.result.errors === 0),
    ]);
  }
  const eBerth = percentile(phase.ready.berth, 50);
  const eDirect = percentile(phase.ready.direct, 50);
  rows.push([
    "(e) create-until-ready p50 ≤ 1.2 × direct p50",
    duration(eBerth),
    `≤ ${duration(1.2 * eDirect)}`,
    ratio(eBerth, eDirect),
    verdict(eBerth <= 1.2 * eDirect),
  ]);
  const last = memory.readings.at(-1)!.requests.toLocaleString("en");
  const { growth, from, to } = rssGrowth(memory);
  rows.push([
    `berth RSS growth, request 100,000 → ${last} < 10%`,
    `${(growth * 100).toFixed(1)}% (${(from / 2 ** 20).toFixed(1)} → ${(to / 2 ** 20).toFixed(1)} MiB)`,
    "< 10%",
    "",
    verdict(growth < 0.1),
  ]);
  // Not targets: what berth's heap flags cost and save against V8's defaults, in the same run.
  const other = rssGrowth(defaults);
  rows.push([
    `(info) the same with V8's default heap settings`,
    `${(other.growth * 100).toFixed(1)}% (${(other.from / 2 ** 20).toFixed(1)} → ${(other.to / 2 ** 20).toFixed(1)} MiB)`,
    "",
    "",
    "info",
  ]);
  const cpu = (run: MemoryRun) => cpuPerRequest(run.readings[0]!, run.readings.at(-1)!);
  rows.push([
    `(info) berth CPU per request, request 100,000 → ${last}: \`${memory.nodeFlags}\` vs V8 defaults`,
    `${cpu(memory).toFixed(1)} µs vs ${cpu(defaults).toFixed(1)} µs`,
    "",
    ratio(cpu(memory), cpu(defaults)),
    "info",
  ]);
  table("targets", ["target", "measured", "limit", "vs baseline", "result"], rows);
}

export async function run(): Promise<void> {
  const started = performance.now();
  const phase = await latencyPhase();
  progress(`latency phase done in ${duration(performance.now() - started)}; memory run`);
  const [memory, defaults] = await measureMemory(
    MEMORY_REQUESTS,
    [process.env.BENCH_BERTH_FLAGS ?? BERTH_NODE_FLAGS, ""],
    progress,
  );
  memoryTable(memory!);
  memoryTable(defaults!);
  targets(phase, memory!, defaults!);
  progress(`done in ${duration(performance.now() - started)}`);
}
