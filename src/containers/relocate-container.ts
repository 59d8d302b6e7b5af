import type { CodeEntryList } from "../code/code-entry.ts";
import { unpackRelease } from "../code/unpack-release.ts";
import { StorageError } from "../errors/errors.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { buildCreateBody } from "./container-config.ts";
import { freshRecord, type LifecycleContext } from "./lifecycle-context.ts";
import { filteredNetwork } from "./process-steps.ts";
import { releaseOwnerNetwork } from "./release-owner-network.ts";
import { MOVED, NODE_LOST } from "./relocation-reasons.ts";
import { UndoStack } from "./undo-stack.ts";

/** The states of a workload that was running, or on its way to: it runs again on its new node. */
const RUNS = new Set(["running", "starting", "restarting", "updating"]);

/**
 * Cluster mode: moves a workload whose node was lost (Swarm calls it down) to
 * another node, in its own turn. It is placed again (the next generation, on
 * another node with room), its files are made there from the release
 * contents the store keeps, its channel is opened there, and its engine
 * container is made there with exactly the body a create gives; a workload
 * that ran is started, and its owner is told ("restarting" with the reason,
 * then "running" again) by status pushes and the feed. Its old copy is left
 * to the node it was on: unreachable through berth from the move on (calls
 * route by the new placement), and removed when that node's agent is back.
 *
 * Answers false when there was nothing to move (not placed, or placed on
 * another node than `lostNode` by now: another server moved it first).
 */
export async function relocateContainer(
  ctx: LifecycleContext,
  id: string,
  lostNode: string,
): Promise<boolean> {
  const placement = ctx.options.placement;
  if (!placement) return false;
  return ctx.queue.run(id, "relocate", async () => {
    const record = await freshRecord(ctx, id);
    const log = ctx.log.child({ containerId: id, op: "relocate" });
    const wasRunning = RUNS.has(record.state);
    const moved = await placement.placeAgain(id, record.spec.resources, lostNode, {
      egressFilter: record.spec.network === "outbound",
    });
    if (!moved) return false;
    log.warn(
      { from: lostNode, to: moved.nodeId, generation: moved.generation },
      "moving a workload off a lost node",
    );
    // (Already so when an earlier try failed half-way.)
    if (wasRunning && record.state !== "restarting")
      await ctx.states.write(record, "restarting", NODE_LOST, "operation");
    const undo = new UndoStack();
    try {
      await makeOnNewNode(ctx, record, moved.generation, undo);
      if (wasRunning) {
        await ctx.options.docker.startContainer(record.dockerId!);
        await ctx.states.write(record, "running", MOVED, "operation", {
          startedAt: Date.now(),
          exitCode: null,
        });
      }
    } catch (err) {
      log.error({ err }, "could not move the workload to another node");
      await undo.unwind(log);
      // Back where re-placement looks for workloads to move (the lost node), to be tried again. Its state
      // stays "restarting" (its owner was told berth is starting it on another host), so the next try starts it.
      await placement.putBack(id, lostNode, moved.generation);
      throw err;
    }
    log.info({ node: moved.nodeId }, "workload moved");
    // The lost node's agent keeps its owner's network while the stale copy is there, and removes it once
    // unused; should that node answer and nothing use it any more, it goes now. Not awaited: a node cut
    // off may take a call's whole timeout to fail, and the move is done.
    if (record.spec.network === "outbound") void ctx.options.networks?.release(lostNode, record.owner);
    return true;
  });
}

/** Its files, channel and engine container on the node it is placed on now; the new engine handle stored. */
async function makeOnNewNode(
  ctx: LifecycleContext,
  record: ContainerRecord,
  generation: number,
  undo: UndoStack,
): Promise<void> {
  const { files, channel, docker, config, instanceId } = ctx.options;
  const id = record.id;
  const releases = record.release === null ? [] : await keptReleases(ctx, record);
  // What an earlier placement on this node left (a workload moved A → B → A finds A's old directories).
  await files.removeAll(id);
  await files.layOut(id, undefined, undo);
  // Every release kept on the old node, not only the current one: a later update must be able to roll back.
  for (const { number, entries } of releases) await files.writeRelease(id, number, entries);
  if (record.release !== null) await files.switchRelease(id, record.release);
  await channel.open(id, { uid: record.uid, gid: record.uid });
  undo.push("close channel", () => channel.close(id));
  // No handle while the new copy is being made: a sweep of stale copies (stale-copies.ts) leaves a
  // workload without one alone, on its new node and on its old, until the move is done or undone.
  const oldHandle = record.dockerId;
  await ctx.options.repo.update(id, { dockerId: null });
  record.dockerId = null;
  undo.push("restore the old handle", async () => {
    await ctx.options.repo.update(id, { dockerId: oldHandle });
    record.dockerId = oldHandle;
  });
  // Its owner's network on the new node, filtered there by that node's agent, before the copy is made on it.
  let networkName: string | undefined;
  if (record.spec.network === "outbound") {
    const nodeId = await ctx.options.networks?.nodeOf(id);
    networkName = await filteredNetwork(ctx, record.owner, id);
    undo.push("release the owner's network", () => releaseOwnerNetwork(ctx, record.owner, nodeId, id));
  }
  const dockerId = await docker.createContainer(
    buildCreateBody({
      id,
      owner: record.owner,
      instanceId,
      uid: record.uid,
      spec: record.spec,
      image: record.image,
      socketDir: files.socketDir(id),
      codeDir: files.codeDir(id),
      hasCode: record.release !== null,
      networkName,
      config,
      generation,
    }),
  );
  undo.push("remove engine container", () => docker.removeContainer(dockerId));
  await ctx.options.repo.update(id, { dockerId });
  record.dockerId = dockerId;
}

/**
 * The workload's releases kept in the store (active, previous, rolled back: those a rollback or the
 * release list may name), each from the contents the store keeps (cluster mode keeps every release's).
 * The current one must be among them.
 */
async function keptReleases(
  ctx: LifecycleContext,
  record: ContainerRecord,
): Promise<Array<{ number: number; entries: CodeEntryList }>> {
  const { maxCodeBytes, maxCodeFiles } = ctx.options.config;
  const kept: Array<{ number: number; entries: CodeEntryList }> = [];
  for (const release of await ctx.options.releases.list(record.id)) {
    if (release.status === "pending" || release.status === "failed") continue;
    const bytes = release.contentDigest
      ? await ctx.options.releaseContents?.get(release.contentDigest)
      : undefined;
    if (!bytes) {
      if (release.number !== record.release) continue; // an older release without contents: not kept here
      throw new StorageError({
        details: { release: record.release },
        cause: new Error(`release ${record.release} of ${record.id} has no contents in the store to move`),
      });
    }
    kept.push({
      number: release.number,
      entries: unpackRelease(bytes, { maxBytes: maxCodeBytes, maxFiles: maxCodeFiles }),
    });
  }
  if (!kept.some((r) => r.number === record.release)) {
    throw new StorageError({
      details: { release: record.release },
      cause: new Error(`release ${record.release} of ${record.id} is not in the store`),
    });
  }
  return kept;
}
