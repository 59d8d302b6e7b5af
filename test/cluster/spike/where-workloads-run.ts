// The spike of issue 16, "where workloads run", by hand (not part of npm test):
//   node_modules/.bin/node test/cluster/spike/where-workloads-run.ts [hardening] [timing] [partition] [--keep]
// On the cluster test bed (brought up here, torn down at the end unless --keep):
//   hardening  the hardening checks, read from inside and from the node's engine, of a workload
//              as a Swarm service task on node 3 and as a plain container made on node 3 with
//              berth's own create body;
//   timing     create-until-running and update-until-the-new-task-runs of a service, against
//              create + start and stop + start of a plain hardened container, on node 3;
//   partition  what Swarm does when the node running a task loses its link, then gets it back:
//              once with the link down (carrier lost), once cut off the bridge (silence).
// Prints the figures, and writes them as JSON to $TMPDIR/berthc-spike-results.json.
// SPIKE_ROUNDS (default 12) rounds of each timing; SPIKE_UPDATE_ORDER=start-first and
// SPIKE_RESTART_DELAY_MS (default 1000) change the services' update order and restart delay.
// The figures and the decision they led to are in docs/cluster.md.
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT_DIR } from "../testbed/names.ts";
import { RUNTIME_IMAGE, Testbed } from "../testbed/testbed.ts";
import { engineView, probeLines, probeOutput } from "./container-view.ts";
import { partitionTimeline } from "./partition-timeline.ts";
import { summarise } from "./percentiles.ts";
import { createPlainWorkload } from "./plain-workload.ts";
import { Services } from "./services.ts";
import { log, sleep } from "./spike-log.ts";
import { makeSocketDir, type SwarmWorkloadOptions, swarmWorkloadSpec } from "./swarm-workload.ts";

const args = process.argv.slice(2);
const keep = args.includes("--keep");
const sections = args.filter((a) => !a.startsWith("--"));
const wanted = (s: string) => sections.length === 0 || sections.includes(s);
const ROUNDS = Number(process.env.SPIKE_ROUNDS ?? 12);
const UID = 200123;
const SWARM_OPTIONS = {
  updateOrder:
    process.env.SPIKE_UPDATE_ORDER === "start-first" ? ("start-first" as const) : ("stop-first" as const),
  restartDelayMs: Number(process.env.SPIKE_RESTART_DELAY_MS ?? 1000),
};
const PLAIN_DIRS = join(ROOT_DIR, "plain");

const bed = await Testbed.up();
log(`test bed up:\n${bed.timer}`);
const services = new Services(bed.node(1).docker);
const target = bed.node(3).docker;
const targetId = (await bed.nodeLs()).find((n) => n.hostname === "berthc-n3")!.id;
await mkdir(join(PLAIN_DIRS, "sock"), { recursive: true, mode: 0o755 });
await mkdir(join(PLAIN_DIRS, "code"), { recursive: true, mode: 0o755 });

/** A service of one workload on node 3, with the spike's update order and restart delay. */
function onTarget(name: string, more: Partial<SwarmWorkloadOptions> = {}): SwarmWorkloadOptions {
  return {
    name,
    uid: UID,
    image: RUNTIME_IMAGE,
    constraints: ["node.hostname==berthc-n3"],
    ...SWARM_OPTIONS,
    ...more,
  };
}

/** A plain workload on node 3, made (not started) with berth's own create body. */
function plainOnTarget(id: string) {
  return createPlainWorkload(target, {
    id,
    uid: UID,
    image: RUNTIME_IMAGE,
    socketDir: join(PLAIN_DIRS, "sock"),
    codeDir: join(PLAIN_DIRS, "code"),
  });
}

async function hardening(): Promise<object> {
  log("hardening: a service task on node 3");
  await makeSocketDir(targetId, "spike-hardening");
  const serviceId = await services.create(swarmWorkloadSpec(onTarget("spike-hardening")));
  const task = await services.waitRunning(serviceId, 60_000);
  const taskContainer = task.Status.ContainerStatus!.ContainerID!;
  const swarmTask = {
    inside: await probeOutput(target, taskContainer),
    engine: await engineView(target, taskContainer),
  };
  await services.remove(serviceId, target);

  log("hardening: a plain container on node 3, berth's create body");
  const plain = await plainOnTarget("spike-hardening-plain");
  await plain.start();
  const plainContainer = {
    inside: await probeOutput(target, plain.id),
    engine: await engineView(target, plain.id),
  };
  await plain.remove({ force: true });

  log("hardening: a service asking for network none");
  let noNetwork: string;
  try {
    const id = await services.create({
      ...swarmWorkloadSpec(onTarget("spike-network-none")),
      Networks: [{ Target: "none" }],
    });
    noNetwork = "accepted";
    await services.remove(id, target);
  } catch (err) {
    noNetwork = `refused: ${(err as Error).message}`;
  }
  return { swarmTask, plainContainer, noNetwork };
}

async function timing(): Promise<object> {
  const create: number[] = [];
  const plainCreate: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const name = `spike-create-${i}`;
    await makeSocketDir(targetId, name);
    const spec = swarmWorkloadSpec(onTarget(name));
    const t0 = performance.now();
    const id = await services.create(spec);
    await services.waitRunning(id, 60_000);
    create.push(performance.now() - t0);
    await services.remove(id, target);

    const t1 = performance.now();
    const c = await plainOnTarget(`spike-plain-${i}`);
    await c.start();
    plainCreate.push(performance.now() - t1);
    await c.remove({ force: true });
    log(
      `create round ${i}: service ${create.at(-1)!.toFixed(0)} ms, plain ${plainCreate.at(-1)!.toFixed(0)} ms`,
    );
  }

  const envUpdate: number[] = [];
  const mountUpdate: number[] = [];
  const name = "spike-update";
  await makeSocketDir(targetId, name);
  const altDir = await makeSocketDir(targetId, name, "-b");
  const id = await services.create(swarmWorkloadSpec(onTarget(name)));
  await services.waitRunning(id, 60_000);
  const update = async (more: Partial<SwarmWorkloadOptions>) => {
    const before = new Set((await services.tasks(id)).map((t) => t.ID));
    const t0 = performance.now();
    await services.update(id, swarmWorkloadSpec(onTarget(name, more)));
    const task = await services.waitRunning(id, 60_000, before);
    const ms = performance.now() - t0;
    // Up before the next round, as berth waits for a workload's hello: a stop that came while the
    // workload was still starting could wait out the grace period and measure that instead.
    await probeOutput(target, task.Status.ContainerStatus!.ContainerID!);
    return ms;
  };
  // Each update changes one thing: the env var, or the socket directory's source (between the
  // template and a literal path — a template can name only node and service, so another
  // directory for the same service must be a literal path).
  let source: string | undefined;
  for (let i = 0; i < ROUNDS; i++) {
    envUpdate.push(await update({ env: [`ROUND=${i}`], socketDirSource: source }));
    source = source === undefined ? altDir : undefined;
    mountUpdate.push(await update({ env: [`ROUND=${i}`], socketDirSource: source }));
    log(
      `update round ${i}: env ${envUpdate.at(-1)!.toFixed(0)} ms, mount ${mountUpdate.at(-1)!.toFixed(0)} ms`,
    );
  }
  await services.remove(id, target);

  const restart: number[] = [];
  const c = await plainOnTarget("spike-restart");
  await c.start();
  await probeOutput(target, c.id);
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await c.stop({ t: 10 });
    await c.start();
    restart.push(performance.now() - t0);
    // Up before the next round (see above): the probe's line of this start is its (i + 2)th.
    for (let j = 0; j < 100 && (await probeLines(target, c.id)) < i + 2; j++) await sleep(50);
  }
  await c.remove({ force: true });
  return {
    swarmOptions: SWARM_OPTIONS,
    serviceCreateUntilRunning: summarise(create),
    plainCreateAndStart: summarise(plainCreate),
    serviceEnvUpdateUntilNewTaskRuns: summarise(envUpdate),
    serviceMountUpdateUntilNewTaskRuns: summarise(mountUpdate),
    plainStopAndStart: summarise(restart),
    raw: { create, plainCreate, envUpdate, mountUpdate, restart },
  };
}

const results: Record<string, unknown> = {};
try {
  if (wanted("hardening")) {
    results.hardening = await hardening();
    console.log(JSON.stringify(results.hardening, null, 2));
  }
  if (wanted("timing")) {
    results.timing = await timing();
    console.log(JSON.stringify(results.timing, null, 2));
  }
  if (wanted("partition")) {
    const runs = [];
    for (const kind of ["link down", "off the bridge"] as const) {
      runs.push(await partitionTimeline(bed, services, { kind, uid: UID, image: RUNTIME_IMAGE }));
    }
    results.partition = runs;
    console.log(JSON.stringify(results.partition, null, 2));
  }
} finally {
  await writeFile(join(tmpdir(), "berthc-spike-results.json"), `${JSON.stringify(results, null, 2)}\n`);
  if (keep) log("test bed kept up: scripts/cluster-testbed.ts down takes it down");
  else {
    await bed.down();
    log(`test bed down in ${bed.timer.steps.at(-1)?.ms} ms`);
  }
}
