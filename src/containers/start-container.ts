import type { ContainerInfo, ContainerState } from "#protocol";
import { admit } from "../admission/admission.ts";
import { BerthError } from "../errors/berth-error.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import type { Actor } from "./actor.ts";
import { STARTABLE } from "./container-state.ts";
import {
  dockerIdOf,
  freshRecord,
  type LifecycleContext,
  requireState,
  stateAfterFailure,
} from "./lifecycle-context.ts";
import type { StartOptions } from "./lifecycle-types.ts";
import { awaitReady, filteredNetwork } from "./process-steps.ts";

/** The states an automatic start (StartOptions.restart) starts from: the workload stopped on its own. */
const RESTARTABLE: ReadonlySet<ContainerState> = new Set(["exited", "failed"]);

/** Starts the container in its turn, admitted, and (unless told not to) waits for its hello. */
export function startContainer(
  ctx: LifecycleContext,
  record: ContainerRecord,
  options: StartOptions,
  actor: Actor,
): Promise<ContainerInfo> {
  return ctx.queue.run(record.id, "start", async () => {
    const current = await freshRecord(ctx, record.id);
    // berth's own start after an exit (restart policy, the engine's return) was decided before
    // this turn: an owner's stop or start queued meanwhile answered the exit, and is not undone.
    if (options.restart === true && !RESTARTABLE.has(current.state)) return ctx.info(current);
    requireState(current, STARTABLE, "start");
    const log = ctx.log.child({ containerId: current.id, op: "start" });
    // The filter may have gone since the create (a host firewall reload, a reboot): never start unfiltered.
    const admitted = await admit(
      ctx.admission,
      current.owner,
      !actor.admin,
      (a) => a.reserveRun(current.owner, current.id, current.spec.resources),
      async () => {
        if (current.spec.network === "outbound") await filteredNetwork(ctx, current.owner, current.id);
      },
    );
    const { docker } = ctx.options;
    const before = current.state;
    // Asked of the engine even when berth believes it runs: the workload may
    // have exited a moment ago, before the engine's event reached berth.
    const t0 = Date.now();
    let started: boolean;
    try {
      if (before !== "running") {
        log.info("starting container");
        await ctx.states.write(current, "starting", "starting", "operation");
      }
      try {
        started = await docker.startContainer(dockerIdOf(current));
      } catch (err) {
        await ctx.states.write(current, stateAfterFailure(err, before), "start failed", "operation");
        throw err;
      }
      if (started || before !== "running") {
        await ctx.states.write(current, "running", "started", "operation", {
          startedAt: Date.now(),
          exitCode: null,
          ...(options.restart === true && started ? { restartCount: current.restartCount + 1 } : {}),
        });
        log.info({ started }, "started container");
      }
    } finally {
      admitted.release(); // once the store has the outcome
    }
    if (options.waitReady === false) return ctx.info(current);
    try {
      await awaitReady(ctx, current, started ? t0 : undefined);
    } catch (err) {
      // The engine said "already running" while the workload was on its way out; now it is out: start it for real.
      if (started || !(err instanceof BerthError && err.details?.cause === "exited")) throw err;
      log.info("workload had just exited; starting it again");
      const t1 = Date.now();
      await docker.startContainer(dockerIdOf(current));
      await ctx.states.write(current, "running", "started", "operation", {
        startedAt: Date.now(),
        exitCode: null,
      });
      await awaitReady(ctx, current, t1);
    }
    return ctx.info(current);
  });
}
