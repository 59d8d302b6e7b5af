import type { ContainerInfo } from "#protocol";
import { type StepOptions, StepTimer } from "../progress/step-timer.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { STOPPABLE } from "./container-state.ts";
import {
  dockerIdOf,
  freshRecord,
  type LifecycleContext,
  requireState,
  stateAfterFailure,
} from "./lifecycle-context.ts";
import type { StartOptions, StopOptions } from "./lifecycle-types.ts";
import { awaitReady, filteredNetwork, startProcess } from "./process-steps.ts";

/** Stops and starts the workload in its turn; `onStep` hears of each step (stop, start, ready) as it starts and ends. */
export function restartContainer(
  ctx: LifecycleContext,
  record: ContainerRecord,
  options: StopOptions & StartOptions & StepOptions,
): Promise<ContainerInfo> {
  const timer = new StepTimer<"stop" | "start" | "ready">(record.id, options.onStep);
  return ctx.queue.run(record.id, "restart", async () => {
    const current = await freshRecord(ctx, record.id);
    let startedAt: number | undefined;
    requireState(current, STOPPABLE, "restart");
    // Counted by the store from `restarting` on: held until that is written, so that a start checked in
    // between (here, or on another server) cannot take the same room (a stopped container restarted).
    const quota = await ctx.admission.reserveRun(current.owner, current.id, current.spec.resources);
    const log = ctx.log.child({ containerId: current.id, op: "restart" });
    log.info("restarting container");
    try {
      await ctx.states.write(current, "restarting", "restarting", "operation");
    } finally {
      quota.release();
    }
    const dockerId = dockerIdOf(current);
    try {
      if (current.spec.network === "outbound") await filteredNetwork(ctx, current.owner, current.id);
      await timer.time("stop", () =>
        ctx.options.docker.stopContainer(dockerId, options.timeoutSec ?? ctx.options.config.stopTimeoutSec),
      );
      startedAt = await timer.time("start", () => startProcess(ctx, current));
    } catch (err) {
      await ctx.states.write(current, stateAfterFailure(err, "running"), "restart failed", "operation");
      throw err;
    }
    await ctx.states.write(current, "running", "restarted", "operation", {
      startedAt: Date.now(),
      exitCode: null,
      restartCount: current.restartCount + 1,
    });
    log.info("restarted container");
    if (options.waitReady !== false) await timer.time("ready", () => awaitReady(ctx, current, startedAt));
    return ctx.info(current);
  });
}
