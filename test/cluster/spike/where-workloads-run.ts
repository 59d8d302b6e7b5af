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
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { ROOT_DIR } from "../testbed/names.ts";
import type { NodeEngine } from "../testbed/node-engine.ts";
import { RUNTIME_IMAGE, Testbed } from "../testbed/testbed.ts";
import { parseProbeOutput } from "./hardening-probe.ts";
import { summarise } from "./percentiles.ts";
import { createPlainWorkload } from "./plain-workload.ts";
import { SOCKET_DIRS, swarmWorkloadSpec } from "./swarm-workload.ts";

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
const log = (...a: unknown[]) => console.error(new Date().toISOString().slice(11, 23), ...a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const results: Record<string, unknown> = {};

const bed = await Testbed.up();
log(`test bed up:\n${bed.timer}`);
const manager = bed.node(1).docker;
const target = bed.node(3);
const nodeIds = Object.fromEntries((await bed.nodeLs()).map((n) => [n.hostname, n.id]));

/** The socket directory the template names for a service on a node (made: a bind source must exist). */
async function socketDirFor(hostname: string, service: string, suffix = ""): Promise<string> {
  const dir = join(SOCKET_DIRS, nodeIds[hostname]!, `${service}${suffix}`);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  return dir;
}

interface Task {
  ID: string;
  NodeID: string;
  DesiredState: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
}

async function tasksOf(serviceId: string, from: Dockerode = manager): Promise<Task[]> {
  return (await from.listTasks({ filters: { service: [serviceId] } })) as Task[];
}

/** Polls until a task of the service runs (none of `known`, e.g. the tasks from before an update), every 20 ms. */
async function runningTask(
  serviceId: string,
  timeoutMs: number,
  known: ReadonlySet<string> = new Set(),
  from?: Dockerode,
): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  let last: Task[] = [];
  for (;;) {
    last = await tasksOf(serviceId, from).catch(() => last);
    // Desired to run as well: with start-first, the task being replaced still runs a while.
    const task = last.find(
      (t) => t.Status.State === "running" && t.DesiredState === "running" && !known.has(t.ID),
    );
    if (task) return task;
    if (Date.now() > deadline)
      throw new Error(`no task running within ${timeoutMs} ms: ${JSON.stringify(last.map((t) => t.Status))}`);
    await sleep(20);
  }
}

async function removeService(id: string, node: NodeEngine = target): Promise<void> {
  await manager
    .getService(id)
    .remove()
    .catch(() => {});
  // Until its containers are gone from the node, so that one round does not load the next.
  for (let i = 0; i < 300; i++) {
    const left = await node.docker.listContainers({
      all: true,
      filters: { label: [`com.docker.swarm.service.id=${id}`] },
    });
    if (left.length === 0) return;
    await sleep(100);
  }
}

async function createService(spec: object): Promise<string> {
  const created = (await manager.createService(spec as Dockerode.CreateServiceOptions)) as {
    id?: string;
    ID?: string;
  };
  return (created.id ?? created.ID)!;
}

/** What the engine says of a container's confinement, beside what the probe read from inside. */
async function engineView(docker: Dockerode, id: string): Promise<Record<string, unknown>> {
  const c = await docker.getContainer(id).inspect();
  const h = c.HostConfig as Record<string, unknown>;
  return {
    User: c.Config.User,
    CapDrop: h.CapDrop,
    SecurityOpt: h.SecurityOpt,
    ReadonlyRootfs: h.ReadonlyRootfs,
    Init: h.Init,
    Memory: h.Memory,
    MemorySwap: h.MemorySwap,
    PidsLimit: h.PidsLimit,
    NanoCpus: h.NanoCpus,
    IpcMode: h.IpcMode,
    NetworkMode: h.NetworkMode,
    Networks: Object.fromEntries(
      Object.entries(c.NetworkSettings.Networks ?? {}).map(([name, n]) => [name, n.IPAddress || null]),
    ),
    Tmpfs: h.Tmpfs,
    Mounts: c.Mounts.map((m) => `${m.Type} ${m.Source} -> ${m.Destination} ${m.RW ? "rw" : "ro"}`),
    Labels: Object.keys(c.Config.Labels ?? {}).sort(),
  };
}

async function probeLines(docker: Dockerode, id: string): Promise<number> {
  const out = (await docker.getContainer(id).logs({ stdout: true, stderr: true })).toString();
  return out.split("BERTH-HARDENING ").length - 1;
}

async function probeOutput(docker: Dockerode, id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const out = (await docker.getContainer(id).logs({ stdout: true, stderr: true })).toString();
    const seen = parseProbeOutput(out);
    if (seen) return seen;
    await sleep(100);
  }
  throw new Error(`container ${id} printed no probe line`);
}

try {
  if (wanted("hardening")) {
    log("hardening: a service task on node 3");
    await socketDirFor("berthc-n3", "spike-hardening");
    const serviceId = await createService(
      swarmWorkloadSpec({
        name: "spike-hardening",
        uid: UID,
        image: RUNTIME_IMAGE,
        constraints: ["node.hostname==berthc-n3"],
      }),
    );
    const task = await runningTask(serviceId, 60_000);
    const taskContainer = task.Status.ContainerStatus!.ContainerID!;
    const swarmTask = {
      inside: await probeOutput(target.docker, taskContainer),
      engine: await engineView(target.docker, taskContainer),
    };
    await removeService(serviceId);

    log("hardening: a plain container on node 3, berth's create body");
    const plainDirs = join(ROOT_DIR, "plain");
    await mkdir(join(plainDirs, "sock"), { recursive: true, mode: 0o755 });
    await mkdir(join(plainDirs, "code"), { recursive: true, mode: 0o755 });
    const plain = await createPlainWorkload(target.docker, {
      id: "spike-hardening-plain",
      uid: UID,
      image: RUNTIME_IMAGE,
      socketDir: join(plainDirs, "sock"),
      codeDir: join(plainDirs, "code"),
    });
    await plain.start();
    const plainContainer = {
      inside: await probeOutput(target.docker, plain.id),
      engine: await engineView(target.docker, plain.id),
    };
    await plain.remove({ force: true });

    log("hardening: a service asking for network none");
    const noNetwork = await createService({
      ...swarmWorkloadSpec({
        name: "spike-network-none",
        uid: UID,
        image: RUNTIME_IMAGE,
        constraints: ["node.hostname==berthc-n3"],
      }),
      Networks: [{ Target: "none" }],
    }).then(
      (id) => `accepted (${id})`,
      (err: Error) => `refused: ${err.message}`,
    );
    if (noNetwork.startsWith("accepted")) await removeService(noNetwork.slice(10, -1));
    results.hardening = { swarmTask, plainContainer, noNetwork };
    console.log(JSON.stringify(results.hardening, null, 2));
  }

  if (wanted("timing")) {
    const create: number[] = [];
    const plainCreate: number[] = [];
    const dirs = join(ROOT_DIR, "plain");
    await mkdir(join(dirs, "sock"), { recursive: true });
    await mkdir(join(dirs, "code"), { recursive: true });
    for (let i = 0; i < ROUNDS; i++) {
      const name = `spike-create-${i}`;
      await socketDirFor("berthc-n3", name);
      const spec = swarmWorkloadSpec({
        name,
        uid: UID,
        image: RUNTIME_IMAGE,
        constraints: ["node.hostname==berthc-n3"],
      });
      const t0 = performance.now();
      const id = await createService(spec);
      await runningTask(id, 60_000);
      create.push(performance.now() - t0);
      await removeService(id);

      const t1 = performance.now();
      const c = await createPlainWorkload(target.docker, {
        id: `spike-plain-${i}`,
        uid: UID,
        image: RUNTIME_IMAGE,
        socketDir: join(dirs, "sock"),
        codeDir: join(dirs, "code"),
      });
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
    await socketDirFor("berthc-n3", name);
    const altDir = await socketDirFor("berthc-n3", name, "-b");
    const base = {
      name,
      uid: UID,
      image: RUNTIME_IMAGE,
      constraints: ["node.hostname==berthc-n3"],
      ...SWARM_OPTIONS,
    };
    const id = await createService(swarmWorkloadSpec(base));
    await runningTask(id, 60_000);
    const update = async (spec: object) => {
      const info = (await manager.getService(id).inspect()) as { Version: { Index: number } };
      const before = new Set((await tasksOf(id)).map((t) => t.ID));
      const t0 = performance.now();
      await manager.getService(id).update({ version: info.Version.Index, ...spec });
      const current = await runningTask(id, 60_000, before);
      const ms = performance.now() - t0;
      // Up before the next round, as berth waits for a workload's hello: a stop that came while the
      // workload was still starting could wait out the grace period and measure that instead.
      await probeOutput(target.docker, current.Status.ContainerStatus!.ContainerID!);
      return ms;
    };
    // Each update changes one thing: the env var, or the socket directory's source (between the
    // template and a literal path — a template can name only node and service, so another
    // directory for the same service must be a literal path).
    let source: string | undefined;
    for (let i = 0; i < ROUNDS; i++) {
      envUpdate.push(
        await update(swarmWorkloadSpec({ ...base, env: [`ROUND=${i}`], socketDirSource: source })),
      );
      source = source === undefined ? altDir : undefined;
      mountUpdate.push(
        await update(swarmWorkloadSpec({ ...base, env: [`ROUND=${i}`], socketDirSource: source })),
      );
      log(
        `update round ${i}: env ${envUpdate.at(-1)!.toFixed(0)} ms, mount ${mountUpdate.at(-1)!.toFixed(0)} ms`,
      );
    }
    await removeService(id);

    const restart: number[] = [];
    const c = await createPlainWorkload(target.docker, {
      id: "spike-restart",
      uid: UID,
      image: RUNTIME_IMAGE,
      socketDir: join(dirs, "sock"),
      codeDir: join(dirs, "code"),
    });
    await c.start();
    await probeOutput(target.docker, c.id);
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      await c.stop({ t: 10 });
      await c.start();
      restart.push(performance.now() - t0);
      // Up before the next round (see above): the probe's line of this start is its (i + 2)th.
      for (let j = 0; j < 100 && (await probeLines(target.docker, c.id)) < i + 2; j++) await sleep(50);
    }
    await c.remove({ force: true });
    results.timing = {
      swarmOptions: SWARM_OPTIONS,
      serviceCreateUntilRunning: summarise(create),
      plainCreateAndStart: summarise(plainCreate),
      serviceEnvUpdateUntilNewTaskRuns: summarise(envUpdate),
      serviceMountUpdateUntilNewTaskRuns: summarise(mountUpdate),
      plainStopAndStart: summarise(restart),
      raw: { create, plainCreate, envUpdate, mountUpdate, restart },
    };
    console.log(JSON.stringify(results.timing, null, 2));
  }

  if (wanted("partition")) {
    const runs: Record<string, unknown>[] = [];
    for (const kind of ["link down", "off the bridge"] as const) runs.push(await cut(kind));
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

/**
 * One workload that may run on node 2 or 3; the node running it is cut off;
 * what Swarm (as nodes 1 and the other see it) and the cut-off node's own
 * engine show, every 200 ms, until the node is back and its copy is gone.
 */
async function cut(kind: "link down" | "off the bridge"): Promise<Record<string, unknown>> {
  const name = kind === "link down" ? "spike-cut-link" : "spike-cut-bridge";
  await socketDirFor("berthc-n2", name);
  await socketDirFor("berthc-n3", name);
  const id = await createService(
    swarmWorkloadSpec({ name, uid: UID, image: RUNTIME_IMAGE, constraints: ["node.hostname!=berthc-n1"] }),
  );
  const first = await runningTask(id, 60_000);
  const cutNode = bed.engines.find((e) => nodeIds[e.node.hostname] === first.NodeID)!;
  const index = cutNode.node.index;
  const copy = first.Status.ContainerStatus!.ContainerID!;
  await sleep(3000); // settled: heartbeats flowing
  log(`partition (${kind}): cutting ${cutNode.node.hostname}, which runs ${copy.slice(0, 12)}`);
  const seen: Record<string, number> = {};
  const mark = (what: string, t0: number) => {
    if (seen[what] === undefined) {
      seen[what] = Math.round(performance.now() - t0);
      log(`  ${what}: ${(seen[what] / 1000).toFixed(1)} s`);
    }
  };
  const copyRunning = async () =>
    (await cutNode.docker
      .getContainer(copy)
      .inspect()
      .then((c) => c.State.Running)
      .catch(() => false)) === true;
  const t0 = performance.now();
  if (kind === "link down") await bed.setLinkDown(index);
  else await bed.partition(index);
  let elsewhere: Task | undefined;
  while (performance.now() - t0 < 120_000) {
    const nodes = await bed.nodeLs([index]).catch(() => []);
    const state = nodes.find((n) => n.id === first.NodeID)?.status;
    if (state && state !== "ready") mark(`marked ${state}`, t0);
    const tasks = await tasksOf(id, bed.node(index === 2 ? 3 : 2).docker).catch(() => []);
    elsewhere = tasks.find((t) => t.Status.State === "running" && t.NodeID !== first.NodeID);
    if (elsewhere) mark("task running elsewhere", t0);
    if (!(await copyRunning())) mark("cut-off copy stopped", t0);
    if (elsewhere && performance.now() - t0 > (seen["task running elsewhere"] ?? 0) + 20_000) break;
    await sleep(200);
  }
  const copyRanOn = await copyRunning();
  const healAt = performance.now();
  if (kind === "link down") await bed.setLinkUp(index);
  else await bed.heal(index);
  log("  healed");
  const afterHeal: Record<string, number> = {};
  while (performance.now() - healAt < 120_000) {
    if (afterHeal.copyStopped === undefined && !(await copyRunning())) {
      afterHeal.copyStopped = Math.round(performance.now() - healAt);
      log(`  cut-off copy stopped ${(afterHeal.copyStopped / 1000).toFixed(1)} s after healing`);
    }
    const nodes = await bed.nodeLs().catch(() => []);
    if (afterHeal.ready === undefined && nodes.find((n) => n.id === first.NodeID)?.status === "ready") {
      afterHeal.ready = Math.round(performance.now() - healAt);
      log(`  node ready again ${(afterHeal.ready / 1000).toFixed(1)} s after healing`);
    }
    if (afterHeal.copyStopped !== undefined && afterHeal.ready !== undefined) break;
    await sleep(200);
  }
  const tasksAfter = await tasksOf(id).catch(() => []);
  await removeService(id, cutNode);
  return {
    kind,
    node: cutNode.node.hostname,
    afterCutMs: seen,
    copyStillRunningWhenHealed: copyRanOn,
    cutLastedMs: Math.round(healAt - t0),
    afterHealMs: afterHeal,
    runningTasksAfter: tasksAfter.filter((t) => t.Status.State === "running").length,
  };
}
