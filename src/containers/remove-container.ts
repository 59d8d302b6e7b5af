import type { Turn } from "../admission/fair-queue.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import type { Actor } from "./actor.ts";
import type { LifecycleContext } from "./lifecycle-context.ts";
import { releaseOwnerNetwork } from "./release-owner-network.ts";

/** Deletes the container in its turn, with a turn at the engine; `{ deleted: false }` when it is gone already. */
export function deleteContainer(
  ctx: LifecycleContext,
  record: ContainerRecord,
  actor: Actor,
): Promise<{ id?: string; deleted: boolean }> {
  return ctx.queue.run(record.id, "delete", async () => {
    const current = await ctx.options.repo.get(record.id);
    if (!current) return { id: record.id, deleted: false };
    const turn = await ctx.admission.engineTurn(current.owner, { bounded: !actor.admin });
    await removeEverything(ctx, current, "deleted", turn).finally(() => turn.release());
    return { id: current.id, deleted: true };
  });
}

/**
 * Tears a container down completely; also used by reconciliation to finish
 * an interrupted delete. A `turn` at the engine is given back before the
 * egress filter of the owner's last outbound container goes (iptables).
 */
export async function removeEverything(
  ctx: LifecycleContext,
  record: ContainerRecord,
  reason: string,
  turn?: Turn,
): Promise<void> {
  const { docker, repo, files, channel, secrets } = ctx.options;
  const log = ctx.log.child({ containerId: record.id, op: "delete" });
  log.info("deleting container");
  const from = record.state;
  // Cluster mode: where its owner's network is, read before the row (and its placement with it) goes.
  const nodeId =
    record.spec.network === "outbound" ? await ctx.options.networks?.nodeOf(record.id) : undefined;
  if (record.state !== "removing") await ctx.states.write(record, "removing", reason, "operation");
  // The engine container and the host-side files go in parallel: the row,
  // which lets a later reconciliation finish the job, goes only once both have.
  const [engine, removed] = await Promise.allSettled([
    record.dockerId ? docker.removeContainer(record.dockerId) : Promise.resolve(),
    (async () => {
      await channel.close(record.id);
      await files.removeAll(record.id);
    })(),
  ]);
  if (engine.status === "rejected") throw engine.reason;
  if (removed.status === "rejected") throw removed.reason;
  await repo.delete(record.id);
  ctx.forget(record.id);
  secrets.removeEnvironment(record.owner, record.spec.env, record.spec.secretEnv);
  if (record.spec.network === "outbound")
    await releaseOwnerNetwork(ctx, record.owner, nodeId, record.id, turn);
  log.info({ from }, "deleted container");
}
