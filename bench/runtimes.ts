import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Dockerode from "dockerode";
import type { ContainerSpec } from "#protocol";
import { type BerthClient, connect } from "../packages/client/src/index.ts";
import type { Config } from "../src/config/config.ts";
import { duration, ratio, table } from "./channel-report.ts";
import { Cleanup, removeLabelled } from "./cleanup.ts";
import { type DirectContainer, HelloListener, removeDirect, startDirect } from "./direct-container.ts";
import { BENCH_TOKEN, startInProcessBerth } from "./in-process-berth.ts";
import { concurrent, type LoadResult, merge } from "./load.ts";
import { percentile } from "./stats.ts";

/**
 * `npm run bench -- runtimes`: what a Python workload costs beside a Node.js
 * one, each in its runtime image and written with its SDK, in one run:
 *  - create-until-ready p50 through berth (the client SDK's create, which
 *    answers once the workload's hello has arrived; then a delete, untimed),
 *    beside the same container made straight through dockerode — berth's own
 *    create body (hardening, limits, the code mounted read-only), create +
 *    start, until the hello arrives on a bare Unix socket — in alternating order;
 *  - request round trip p50 through berth (client SDK → berth → workload →
 *    back; the same echo), one at a time and 64 in flight, the two runtimes
 *    in alternating order;
 * then the ratios against their targets and the images' sizes.
 */
const READY_ROUNDS = 20;
const TRIP_ROUNDS = 10;
const ONE_AT_A_TIME = 100;
const IN_FLIGHT = 64;
const IN_FLIGHT_REQUESTS = 640;

type Runtime = "node" | "python";
const RUNTIMES: Runtime[] = ["node", "python"];

const IMAGES: Record<Runtime, string> = {
  node: "berth/runtime-node:24",
  python: "berth/runtime-python:3.11",
};

/** How the benchmark picks a runtime through berth: by name, as a user would. */
const runtimeSpec = (runtime: Runtime): Partial<ContainerSpec> => ({ runtime });

/** The same echo in each runtime, with its SDK as the image has it; the file its image runs. */
const WORKLOADS: Record<Runtime, { entry: string; code: string }> = {
  node: {
    entry: "index.js",
    code: `const { connect } = require("@berth/workload");
connect({ meta: { app: "bench-echo" } }).onRequest(async (data) => data);
`,
  },
  python: {
    entry: "main.py",
    code: `import asyncio
import berth_workload


async def main():
    async with berth_workload.connect(meta={"app": "bench-echo"}) as berth:

        @berth.on_request
        async def echo(data):
            return data

        await berth.wait_closed()


asyncio.run(main())
`,
  },
};

const PAYLOAD = { op: "echo", text: "the same small request for both runtimes", n: 42 };

const progress = (line: string) => process.stderr.write(`[runtimes] ${line}\n`);
const execFileP = promisify(execFile);

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Bench {
  config: Config;
  docker: Dockerode;
  client: BerthClient;
  root: string;
  directLabel: string;
}

/** Create until ready through berth; the delete after it is not timed. */
async function viaBerth(b: Bench, runtime: Runtime, round: number): Promise<number> {
  const { entry, code } = WORKLOADS[runtime];
  const t = performance.now();
  const bot = await b.client.containers.create({
    name: `ready-${runtime}-${round + 1}`,
    ...runtimeSpec(runtime),
    code: { files: { [entry]: code } },
  });
  const ms = performance.now() - t;
  await bot.delete();
  return ms;
}

/** The same, straight through dockerode: from writing the code to the hello on its socket. */
async function direct(b: Bench, runtime: Runtime): Promise<number> {
  let listener: HelloListener | undefined;
  let c: DirectContainer | undefined;
  try {
    const t = performance.now();
    c = await startDirect({
      docker: b.docker,
      config: b.config,
      root: b.root,
      instanceLabel: b.directLabel,
      image: IMAGES[runtime],
      ...WORKLOADS[runtime],
      beforeStart: async (made) => {
        listener = await HelloListener.listen(made);
      },
    });
    await within(listener!.hello, 30_000, `the direct ${runtime} container's hello`);
    return performance.now() - t;
  } finally {
    listener?.close();
    if (c) await removeDirect(c);
  }
}

/** One warm-up round, then READY_ROUNDS that alternate which of the two goes first. */
async function measureReady(b: Bench, runtime: Runtime): Promise<{ berth: number[]; direct: number[] }> {
  const times = { berth: [] as number[], direct: [] as number[] };
  for (let round = -1; round < READY_ROUNDS; round++) {
    const berthFirst = round % 2 === 0;
    const first = berthFirst ? await viaBerth(b, runtime, round) : await direct(b, runtime);
    const second = berthFirst ? await direct(b, runtime) : await viaBerth(b, runtime, round);
    if (round < 0) continue;
    times.berth.push(berthFirst ? first : second);
    times.direct.push(berthFirst ? second : first);
  }
  return times;
}

type Trips = Record<Runtime, { one: LoadResult[]; many: LoadResult[] }>;

/** Round trips to one workload of each runtime, the runtimes taking turns (and turns at going first). */
async function measureTrips(b: Bench): Promise<Trips> {
  const bots = Object.fromEntries(
    await Promise.all(
      RUNTIMES.map(async (runtime) => {
        const { entry, code } = WORKLOADS[runtime];
        const bot = await b.client.containers.create({
          name: `echo-${runtime}`,
          ...runtimeSpec(runtime),
          code: { files: { [entry]: code } },
        });
        return [runtime, bot] as const;
      }),
    ),
  );
  const trips: Trips = { node: { one: [], many: [] }, python: { one: [], many: [] } };
  try {
    for (let round = -1; round < TRIP_ROUNDS; round++) {
      const order = round % 2 === 0 ? RUNTIMES : [...RUNTIMES].reverse();
      for (const runtime of order) {
        const bot = bots[runtime]!;
        const call = () => bot.request(PAYLOAD, { timeoutMs: 10_000 });
        const one = await concurrent(call, round < 0 ? 50 : ONE_AT_A_TIME, 1);
        const many = await concurrent(call, round < 0 ? 256 : IN_FLIGHT_REQUESTS, IN_FLIGHT);
        if (round < 0) continue; // warm-up: the JIT, the SDKs' first frames
        trips[runtime].one.push(one);
        trips[runtime].many.push(many);
      }
    }
  } finally {
    for (const bot of Object.values(bots)) await bot.delete();
  }
  return trips;
}

async function imageSize(image: string): Promise<number> {
  const { stdout } = await execFileP("docker", ["image", "inspect", "--format", "{{.Size}}", image]);
  return Number(stdout.trim());
}

export async function run(): Promise<void> {
  const started = performance.now();
  const cleanup = new Cleanup();
  const ready = {} as Record<Runtime, { berth: number[]; direct: number[] }>;
  let trips: Trips;
  try {
    const root = await mkdtemp(join(tmpdir(), "bqd-"));
    cleanup.add("remove the direct containers' files", () => rm(root, { recursive: true, force: true }));
    // berth in this process; its close() removes every container it made.
    const subject = await startInProcessBerth();
    cleanup.add("close berth", () => subject.close());
    const { config } = subject;
    const docker = new Dockerode({ socketPath: config.dockerSocket });
    const directLabel = `direct-${subject.berth.instanceId}`;
    cleanup.add("remove direct containers", () => removeLabelled(docker, `berth.instance=${directLabel}`));
    // The client SDK, as users talk to berth (not the in-process berth's raw socket).
    const client = await connect(subject.url, { token: BENCH_TOKEN });
    cleanup.add("close the client", () => client.close());
    const b: Bench = { config, docker, client, root, directLabel };

    for (const runtime of RUNTIMES) {
      progress(`create until ready, ${runtime}: ${READY_ROUNDS} rounds, berth and direct in turns`);
      ready[runtime] = await measureReady(b, runtime);
    }
    progress(`round trips: ${TRIP_ROUNDS} rounds, node and python in turns`);
    trips = await measureTrips(b);
  } finally {
    await cleanup.run();
  }
  const sizes = Object.fromEntries(
    await Promise.all(RUNTIMES.map(async (r) => [r, await imageSize(IMAGES[r])] as const)),
  ) as Record<Runtime, number>;
  report(ready, trips, sizes);
  progress(`done in ${duration(performance.now() - started)}`);
}

function report(
  ready: Record<Runtime, { berth: number[]; direct: number[] }>,
  trips: Trips,
  sizes: Record<Runtime, number>,
): void {
  const p50 = (xs: number[]) => percentile(xs, 50);
  table(
    `create until ready: ${READY_ROUNDS} rounds per runtime, berth vs direct dockerode`,
    ["runtime", "image", "berth p50", "direct p50", "berth p95", "direct p95", "berth / direct p50"],
    RUNTIMES.map((r) => [
      r,
      IMAGES[r],
      duration(p50(ready[r].berth)),
      duration(p50(ready[r].direct)),
      duration(percentile(ready[r].berth, 95)),
      duration(percentile(ready[r].direct, 95)),
      ratio(p50(ready[r].berth), p50(ready[r].direct)),
    ]),
  );
  const joined = (r: Runtime, kind: "one" | "many") => merge(trips[r][kind]);
  const tripRow = (kind: "one" | "many", label: string) => {
    const [node, python] = [joined("node", kind), joined("python", kind)];
    const errors = node.errors + python.errors;
    return [
      label,
      String(node.count),
      duration(p50(node.latenciesMs)),
      duration(p50(python.latenciesMs)),
      duration(percentile(node.latenciesMs, 99)),
      duration(percentile(python.latenciesMs, 99)),
      ratio(p50(python.latenciesMs), p50(node.latenciesMs)),
      errors === 0 ? "0" : `${errors} (${node.firstError ?? python.firstError})`,
    ];
  };
  table(
    `request round trip through berth: ${TRIP_ROUNDS} rounds, node and python in turns`,
    [
      "in flight",
      "requests each",
      "node p50",
      "python p50",
      "node p99",
      "python p99",
      "python / node p50",
      "errors",
    ],
    [tripRow("one", "1"), tripRow("many", String(IN_FLIGHT))],
  );
  table(
    "image sizes (docker image inspect --format {{.Size}})",
    ["image", "size"],
    RUNTIMES.map((r) => [IMAGES[r], `${(sizes[r] / 1e6).toFixed(1)} MB`]),
  );
  const verdict = (ok: boolean) => (ok ? "PASS" : "**FAIL**");
  const rows: string[][] = RUNTIMES.map((r) => {
    const x = p50(ready[r].berth) / p50(ready[r].direct);
    return [`${r}: create-until-ready p50, berth ≤ 1.2 × direct`, ratio(x, 1), "≤ 1.20×", verdict(x <= 1.2)];
  });
  for (const [kind, label] of [
    ["one", "one at a time"],
    ["many", `${IN_FLIGHT} in flight`],
  ] as const) {
    const x = p50(joined("python", kind).latenciesMs) / p50(joined("node", kind).latenciesMs);
    rows.push([`round trip p50, ${label}: python ≤ 1.5 × node`, ratio(x, 1), "≤ 1.50×", verdict(x <= 1.5)]);
  }
  table("targets", ["target", "measured", "limit", "result"], rows);
}
