import type { ContainerState } from "#protocol";
import type { ContainerInspect, DockerClient } from "../docker/docker-client.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { stateFromEngine } from "./container-state.ts";
import type { LifecycleContext } from "./lifecycle-context.ts";
import type { EngineExit } from "./lifecycle-types.ts";

/** States after which the workload running again, started by someone other than berth, counts as a restart. */
const STOPPED_BEFORE: ReadonlySet<ContainerState> = new Set(["exited", "stopped", "failed"]);

/**
 * How long an exit by SIGKILL is given for the engine to call it an OOM kill. The engine sets
 * `State.OOMKilled` from the kernel's OOM notice, which containerd delivers apart from the exit and,
 * now and then, after it (seen here under load): read at once, such an exit looks like a plain
 * `kill -9`, and the OOM kill is lost from the status push, the feed and the restart policy's
 * reasons. Only exits by SIGKILL that berth did not cause wait: an OOM kill or someone else's kill.
 * 3 s: 1 s was passed in a full CI run on this 2-core machine (an OOM kill told as a plain exit).
 */
export const LATE_OOM_FLAG_WAIT_MS = 3_000;
const LATE_OOM_FLAG_POLL_MS = 50;
const SIGKILL_EXIT = 137;
/** An exit older than this was not just now: its flag, if any, has long been set. */
const FRESH_EXIT_MS = 10_000;

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
    let inspect = record.dockerId ? await docker.inspectContainer(record.dockerId) : undefined;
    if (
      inspect &&
      record.dockerId &&
      !STOPPED_BEFORE.has(record.state) &&
      isFreshSigkillWithoutOomFlag(inspect)
    ) {
      inspect = await awaitLateOomFlag(docker, record.dockerId, inspect, ctx.options.oomFlagWaitMs);
    }
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

function isSigkillWithoutOomFlag(inspect: ContainerInspect): boolean {
  return (
    !inspect.State.Running && inspect.State.ExitCode === SIGKILL_EXIT && inspect.State.OOMKilled !== true
  );
}

/** Just now, as opposed to an exit found later (a resync after berth was down), whose flag would have come. */
function isFreshSigkillWithoutOomFlag(inspect: ContainerInspect): boolean {
  const finishedAt = Date.parse(inspect.State.FinishedAt ?? "");
  return isSigkillWithoutOomFlag(inspect) && !(finishedAt < Date.now() - FRESH_EXIT_MS);
}

/** Reads the container again until the engine flags the OOM kill, it runs again, or the wait is over. */
async function awaitLateOomFlag(
  docker: DockerClient,
  dockerId: string,
  first: ContainerInspect,
  waitMs = LATE_OOM_FLAG_WAIT_MS,
): Promise<ContainerInspect | undefined> {
  const deadline = Date.now() + waitMs;
  let inspect: ContainerInspect | undefined = first;
  while (inspect && isSigkillWithoutOomFlag(inspect) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, LATE_OOM_FLAG_POLL_MS));
    inspect = await docker.inspectContainer(dockerId);
  }
  return inspect;
}
