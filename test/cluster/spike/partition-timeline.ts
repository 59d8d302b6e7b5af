import type { Testbed } from "../testbed/testbed.ts";
import type { Services } from "./services.ts";
import { log, sleep } from "./spike-log.ts";
import { makeSocketDir, swarmWorkloadSpec } from "./swarm-workload.ts";

export type Cut = "link down" | "off the bridge";

/** When each event came, in ms after the cut, and after healing. */
export interface PartitionTimeline {
  kind: Cut;
  node: string;
  afterCutMs: Record<string, number>;
  copyStillRunningWhenHealed: boolean;
  cutLastedMs: number;
  afterHealMs: Record<string, number>;
  /** Tasks of the one-replica service that Swarm reported running once the node was back and its copy gone. */
  runningTasksAfter: number;
}

/**
 * One workload that Swarm may run on node 2 or 3; the node running it is cut
 * off, then, 20 s after Swarm ran a replacement, healed. Every 200 ms: the
 * node's state as the other managers see it, the service's tasks, and whether
 * the cut-off copy still runs — asked of the cut-off node's own engine, whose
 * socket is a file on this machine and so reachable whatever its network does.
 */
export async function partitionTimeline(
  bed: Testbed,
  services: Services,
  options: { kind: Cut; uid: number; image: string },
): Promise<PartitionTimeline> {
  const { kind } = options;
  const nodeIds = Object.fromEntries((await bed.nodeLs()).map((n) => [n.hostname, n.id]));
  const name = kind === "link down" ? "spike-cut-link" : "spike-cut-bridge";
  await makeSocketDir(nodeIds["berthc-n2"]!, name);
  await makeSocketDir(nodeIds["berthc-n3"]!, name);
  const id = await services.create(
    swarmWorkloadSpec({
      name,
      uid: options.uid,
      image: options.image,
      constraints: ["node.hostname!=berthc-n1"],
    }),
  );
  const first = await services.waitRunning(id, 60_000);
  const cutNode = bed.engines.find((e) => nodeIds[e.node.hostname] === first.NodeID)!;
  const index = cutNode.node.index;
  const other = bed.node(index === 2 ? 3 : 2).docker;
  const copy = first.Status.ContainerStatus!.ContainerID!;
  await sleep(3000); // settled: heartbeats flowing
  log(`partition (${kind}): cutting ${cutNode.node.hostname}, which runs ${copy.slice(0, 12)}`);
  const afterCut: Record<string, number> = {};
  const mark = (what: string, since: number) => {
    if (afterCut[what] !== undefined) return;
    afterCut[what] = Math.round(performance.now() - since);
    log(`  ${what}: ${(afterCut[what] / 1000).toFixed(1)} s`);
  };
  const copyRunning = async () =>
    (await cutNode.docker
      .getContainer(copy)
      .inspect()
      .then((c) => c.State.Running)
      .catch(() => false)) === true;

  const cutAt = performance.now();
  if (kind === "link down") await bed.setLinkDown(index);
  else await bed.partition(index);
  while (performance.now() - cutAt < 120_000) {
    const nodes = await bed.nodeLs([index]).catch(() => []);
    const state = nodes.find((n) => n.id === first.NodeID)?.status;
    if (state && state !== "ready") mark(`marked ${state}`, cutAt);
    const tasks = await services.tasks(id, other).catch(() => []);
    const elsewhere = tasks.find((t) => t.Status.State === "running" && t.NodeID !== first.NodeID);
    if (elsewhere) mark("task running elsewhere", cutAt);
    if (!(await copyRunning())) mark("cut-off copy stopped", cutAt);
    if (elsewhere && performance.now() - cutAt > (afterCut["task running elsewhere"] ?? 0) + 20_000) break;
    await sleep(200);
  }

  const copyStillRunningWhenHealed = await copyRunning();
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
  const tasksAfter = await services.tasks(id).catch(() => []);
  await services.remove(id, cutNode.docker);
  return {
    kind,
    node: cutNode.node.hostname,
    afterCutMs: afterCut,
    copyStillRunningWhenHealed,
    cutLastedMs: Math.round(healAt - cutAt),
    afterHealMs: afterHeal,
    runningTasksAfter: tasksAfter.filter((t) => t.Status.State === "running").length,
  };
}
