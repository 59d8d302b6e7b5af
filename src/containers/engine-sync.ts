import type { ContainerState } from "#protocol";
import type { ContainerRecord } from "../store/store-ports.ts";
import { stateFromEngine } from "./container-state.ts";
import type { LifecycleContext } from "./lifecycle-context.ts";
import type { EngineExit } from "./lifecycle-types.ts";

/** States after which the workload running again, started by someone other than berth, counts as a restart. */
const STOPPED_BEFORE: ReadonlySet<ContainerState> = new Set(["exited", "stopped", "failed"]);

/**
 * Reads the engine's truth about one container and records any change, as
 * the engine's (cause "engine"). Engine events and resyncs come here; it runs
 * in the container's operation queue, so it never interleaves with an
 * operation berth itself is making (whose own outcome is recorded by that operation).
 */
export function syncFromEngine(
  ctx: LifecycleContext,
  id: string,
  reason: string,
): Promise<EngineExit | undefined> {
  const { repo, docker } = ctx.options;
  return ctx.queue.run(id, "sync", async () => {
    const record = await repo.get(id);
    if (!record || record.state === "removing") return undefined;
    const inspect = record.dockerId ? await docker.inspectContainer(record.dockerId) : undefined;
    if (!inspect) {
      if (record.dockerId && record.state !== "missing") {
        await ctx.states.write(record, "missing", "engine container vanished", "engine");
      }
      return undefined;
    }
    const finishedAt = Date.parse(inspect.State.FinishedAt ?? "");
    const exit: EngineExit | undefined = inspect.State.Running
      ? undefined
      : {
          exitCode: inspect.State.ExitCode,
          oomKilled: inspect.State.OOMKilled === true,
          // The engine's zero time ("0001-01-01…") for a container that never ran.
          finishedAt: finishedAt > 0 ? finishedAt : undefined,
        };
    const to = stateFromEngine(inspect.State.Status, record.state);
    if (to === record.state) return exit;
    const changes: Partial<ContainerRecord> = {};
    let why = reason;
    if (to === "exited" || to === "stopped") {
      changes.exitCode = inspect.State.ExitCode;
      if (inspect.State.OOMKilled) why = "out of memory";
    }
    if (to === "running") {
      changes.startedAt = Date.parse(inspect.State.StartedAt) || Date.now();
      // Started outside berth after it had stopped: a restart all the same (see ContainerInfo.restartCount).
      if (STOPPED_BEFORE.has(record.state)) changes.restartCount = record.restartCount + 1;
    }
    await ctx.states.write(record, to, why, "engine", changes, {
      oomKilled: inspect.State.OOMKilled === true,
    });
    return exit;
  });
}
