import type { ContainerInfo } from "#protocol";
import type { ContainerRecord } from "../store/store-ports.ts";
import { STOPPABLE } from "./container-state.ts";
import {
  dockerIdOf,
  freshRecord,
  type LifecycleContext,
  requireState,
  stateAfterFailure,
} from "./lifecycle-context.ts";
import type { StopOptions } from "./lifecycle-types.ts";

/** Stops the container in its turn. */
export function stopContainer(
  ctx: LifecycleContext,
  record: ContainerRecord,
  options: StopOptions,
): Promise<ContainerInfo> {
  return ctx.queue.run(record.id, "stop", async () => {
    const current = await freshRecord(ctx, record.id);
    requireState(current, STOPPABLE, "stop");
    await stopNow(ctx, current, options.timeoutSec ?? ctx.options.config.stopTimeoutSec);
    return ctx.info(current);
  });
}

async function stopNow(ctx: LifecycleContext, record: ContainerRecord, timeoutSec: number): Promise<void> {
  if (record.state === "stopped" || record.state === "created") return;
  const log = ctx.log.child({ containerId: record.id, op: "stop" });
  // Already out, yet its owner wants it down: recorded, so that no automatic start undoes it.
  if (record.state === "exited") return await ctx.states.write(record, "stopped", "stopped", "operation");
  log.info({ timeoutSec }, "stopping container");
  const before = record.state;
  await ctx.states.write(record, "stopping", "stopping", "operation");
  try {
    await ctx.options.docker.stopContainer(dockerIdOf(record), timeoutSec);
  } catch (err) {
    await ctx.states.write(record, stateAfterFailure(err, before), "stop failed", "operation");
    throw err;
  }
  await ctx.states.write(record, "stopped", "stopped", "operation");
  log.info("stopped container");
}
