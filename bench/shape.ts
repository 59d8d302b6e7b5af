import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { io, type Socket } from "socket.io-client";
import { RATE_LIMITS_OFF } from "./admission-env.ts";
import { BerthChild } from "./berth-child.ts";
import { Cleanup, removeLabelled } from "./cleanup.ts";
import { SDK_ECHO_WORKLOAD } from "./echo-workload.ts";
import { secretKeyFileBeside } from "./secret-key-file.ts";
import { printTable } from "./stats.ts";

/**
 * `npm run bench -- shape`: berth as this tree has it beside berth at
 * `BENCH_BASE` (a git revision; by default the last commit before issue 15
 * re-divided the code), in the same run, so that a change of shape that
 * should change no behaviour is seen to cost nothing. Both run as their own
 * processes, as `npm start` runs them, on the same engine and images, each
 * with its own data directory; every round takes one container through
 * create until ready, channel requests (100 B: one at a time, and 64 in
 * flight), an update until ready, a restart, a stop, a start and a delete,
 * on each side, the side that goes first alternating round by round.
 */
const BASE = process.env.BENCH_BASE ?? "0e3f622";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const ONE_AT_A_TIME = 100;
const IN_FLIGHT = 64;
const BATCH = 1_280;
const TOKEN = "bench-token-0123456789";
const root = new URL("../", import.meta.url).pathname;

interface Side {
  name: "this tree" | "base";
  berth: BerthChild;
  client: Socket;
  times: Map<string, number[]>;
}

export async function run(): Promise<void> {
  const cleanup = new Cleanup();
  const docker = new Dockerode({ socketPath: "/var/run/docker.sock" });
  try {
    const baseTree = await checkOut(BASE, cleanup);
    const sides = [
      await startSide("this tree", root, docker, cleanup),
      await startSide("base", baseTree, docker, cleanup),
    ];
    for (let round = 0; round < ROUNDS + 1; round++) {
      const order = round % 2 === 0 ? sides : sides.toReversed();
      for (const side of order) await oneRound(side, round, round === 0);
      process.stderr.write(`round ${round}/${ROUNDS} done\n`);
    }
    const [now, base] = sides as [Side, Side];
    const row = (what: string) => ({
      what,
      berth: now.times.get(what) ?? [],
      baseline: base.times.get(what) ?? [],
    });
    printTable(
      `shape: this tree (berth) against ${BASE} (baseline), ${ROUNDS} rounds, both as npm start runs them`,
      "ms",
      [
        "create until ready",
        "stop",
        "start until ready",
        "restart until ready",
        "update until ready",
        "delete",
      ].map(row),
    );
    printTable(
      `shape: channel requests, 100 B (${ONE_AT_A_TIME} one at a time per round; ${BATCH} with ${IN_FLIGHT} in flight per round, time per request)`,
      "µs",
      ["request, one at a time", `request, ${IN_FLIGHT} in flight`].map(row),
    );
  } finally {
    await cleanup.run();
  }
}

/** `rev` of this repository as a tree of its own, with this tree's npm packages (and its own workspace packages). */
async function checkOut(rev: string, cleanup: Cleanup): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "berth-base-"));
  cleanup.add("remove the base tree", () => rm(dir, { recursive: true, force: true }));
  execFileSync("sh", ["-c", `git -C "${root}" archive "${rev}" | tar -x -C "${dir}"`]);
  await mkdir(join(dir, "node_modules", "@berth"), { recursive: true });
  for (const entry of await readdir(join(root, "node_modules"))) {
    if (entry === "@berth") continue;
    await symlink(join(root, "node_modules", entry), join(dir, "node_modules", entry));
  }
  for (const pkg of await readdir(join(dir, "packages"))) {
    await symlink(join(dir, "packages", pkg), join(dir, "node_modules", "@berth", pkg));
  }
  return dir;
}

async function startSide(
  name: Side["name"],
  tree: string,
  docker: Dockerode,
  cleanup: Cleanup,
): Promise<Side> {
  const dataDir = await mkdtemp(join(tmpdir(), "bs-"));
  cleanup.add(`remove ${name}'s data`, () => rm(dataDir, { recursive: true, force: true }));
  cleanup.add(`remove ${name}'s key`, () => rm(secretKeyFileBeside(dataDir), { force: true }));
  const berth = await BerthChild.spawn(
    {
      BERTH_DATA_DIR: dataDir,
      BERTH_SECRET_KEY_FILE: secretKeyFileBeside(dataDir),
      BERTH_TOKENS: `bench:${TOKEN}`,
      ...RATE_LIMITS_OFF,
    },
    undefined,
    tree,
  );
  cleanup.add(`remove ${name}'s containers`, () =>
    removeLabelled(docker, `berth.instance=${berth.instanceId}`),
  );
  cleanup.add(`stop ${name}`, () => berth.stop());
  const client = io(`http://127.0.0.1:${berth.port}`, { auth: { token: TOKEN }, transports: ["websocket"] });
  cleanup.add(`disconnect from ${name}`, () => client.disconnect());
  await new Promise<void>((resolve, reject) => {
    client.once("connect", resolve);
    client.once("connect_error", reject);
  });
  return { name, berth, client, times: new Map() };
}

async function oneRound(side: Side, round: number, warmUp: boolean): Promise<void> {
  const record = (what: string, ms: number) => {
    if (warmUp) return;
    const list = side.times.get(what) ?? [];
    list.push(ms);
    side.times.set(what, list);
  };
  const ack = async (event: string, payload: unknown): Promise<Record<string, unknown>> => {
    const res = await side.client.timeout(120_000).emitWithAck(event, payload);
    if (!res.ok) throw new Error(`${side.name}: ${event}: ${JSON.stringify(res.error)}`);
    return res.data;
  };
  const timed = async (what: string, event: string, payload: unknown) => {
    const t = performance.now();
    const data = await ack(event, payload);
    record(what, performance.now() - t);
    return data;
  };
  const { id } = (await timed("create until ready", "container:create", {
    name: `shape-${round}`,
    code: { files: { "index.js": SDK_ECHO_WORKLOAD } },
  })) as { id: string };
  const data = { text: "x".repeat(80) };
  for (let i = 0; i < ONE_AT_A_TIME; i++) {
    const t = performance.now();
    await ack("container:request", { id, data });
    record("request, one at a time", (performance.now() - t) * 1000);
  }
  let sent = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (sent < BATCH) {
        sent++;
        await ack("container:request", { id, data });
      }
    }),
  );
  record(`request, ${IN_FLIGHT} in flight`, ((performance.now() - t) * 1000) / BATCH);
  await timed("update until ready", "container:update", {
    id,
    code: { files: { "index.js": `${SDK_ECHO_WORKLOAD}\n// round ${round}\n` } },
  });
  await timed("restart until ready", "container:restart", { id });
  await timed("stop", "container:stop", { id });
  await timed("start until ready", "container:start", { id });
  await timed("delete", "container:delete", { id });
}
