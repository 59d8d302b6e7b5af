import { BerthError } from "../errors/berth-error.ts";
import { InternalError } from "../errors/errors.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { dockerIdOf, type LifecycleContext } from "./lifecycle-context.ts";
import { ensureOwnerNetwork } from "./owner-network.ts";
import { waitUntilReady } from "./readiness.ts";

/**
 * The owner's bridge, created if missing, with its egress filter in place (or EGRESS_FILTER_UNAVAILABLE). In
 * cluster mode, on the node the workload `containerId` is placed on, by that node's agent: it must have been
 * placed first.
 */
export async function filteredNetwork(
  ctx: LifecycleContext,
  owner: string,
  containerId: string,
): Promise<string> {
  const { docker, egress, instanceId, networks } = ctx.options;
  if (networks) {
    const nodeId = await networks.nodeOf(containerId);
    if (nodeId === undefined)
      throw new InternalError({
        cause: new Error(`container ${containerId} is placed on no node: no network`),
      });
    return networks.ensure(nodeId, owner);
  }
  const network = await ensureOwnerNetwork(docker, instanceId, owner);
  await egress.protect(network.bridge);
  return network.name;
}

/**
 * Starts the process, recording nothing, and returns when berth asked for it
 * (for a readiness wait): a step of an operation already admitted.
 */
export async function startProcess(ctx: LifecycleContext, record: ContainerRecord): Promise<number> {
  // The filter first, so no turn at the engine is held while iptables runs.
  if (record.spec.network === "outbound") await filteredNetwork(ctx, record.owner, record.id);
  // A step of an operation already admitted: it waits for its turn, never refused half-way.
  const turn = await ctx.admission.engineTurn(record.owner, { bounded: false });
  const t0 = Date.now();
  await ctx.options.docker.startContainer(dockerIdOf(record)).finally(() => turn.release());
  return t0;
}

/**
 * Waits for the workload's hello after a start of a client's operation (create,
 * start, restart): NOT_READY names the container, which is kept, and a workload
 * that exited before its hello is recorded `exited`.
 */
export async function awaitReady(
  ctx: LifecycleContext,
  record: ContainerRecord,
  startedAt: number | undefined,
): Promise<void> {
  const { config, docker, channel, secrets } = ctx.options;
  try {
    await waitUntilReady({
      id: record.id,
      startedAt,
      dockerId: dockerIdOf(record),
      timeoutMs: config.readyTimeoutMs,
      docker,
      channel,
      redactor: secrets.forOwner(record.owner),
    });
  } catch (err) {
    // The container exists and is kept: its id lets the client read its output, fix it or delete it.
    if (err instanceof BerthError && err.details) err.details.containerId = record.id;
    if (err instanceof BerthError && err.code === "NOT_READY" && err.details?.cause === "exited") {
      await ctx.states.write(record, "exited", "exited before ready", "operation", {
        exitCode: Number(err.details.exitCode),
      });
    }
    throw err;
  }
}
