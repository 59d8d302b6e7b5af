import type { ContainerInfo } from "#protocol";
import type { StatusChange } from "../containers/container-manager.ts";
import type { InterruptedOperation } from "../containers/interrupted-operation.ts";
import type { OperationOutcome } from "../containers/operation-tracker.ts";
import { MOVED, NODE_LOST } from "../containers/relocation-reasons.ts";
import { BerthError } from "../errors/berth-error.ts";
import { describeGateCause } from "../updates/update-errors.ts";
import type { ActivityDraft } from "./activity-entry.ts";
import { feedOutput } from "./feed-output.ts";
import { bytes } from "./format-bytes.ts";

/**
 * Turns what happened into plain words for end users. Only berth's own
 * messages and safe facts (codes, exit codes, durations) are used: never a
 * stack trace, a host path, an engine id or an internal error's text.
 */
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const ACTION: Record<OperationOutcome["op"], string> = {
  create: "container.created",
  start: "container.started",
  stop: "container.stopped",
  restart: "container.restarted",
  delete: "container.deleted",
  update: "container.updated",
  rollback: "container.rolled_back",
};

const PAST: Record<OperationOutcome["op"], string> = {
  create: "Created",
  start: "Started",
  stop: "Stopped",
  restart: "Restarted",
  delete: "Deleted",
  update: "Updated",
  rollback: "Rolled back",
};

export function describeOperation(o: OperationOutcome): ActivityDraft | undefined {
  const base = { owner: o.owner, containerId: o.id, containerName: o.name };
  if (o.ok) {
    if (o.op === "delete" && o.info === undefined && o.id === undefined) return undefined; // nothing was there
    const timed =
      o.op === "start" || o.op === "restart" || (o.op === "create" && o.info?.state === "running");
    const release = (o.result as { release?: number } | undefined)?.release;
    if ((o.op === "update" || o.op === "rollback") && release !== undefined) {
      return {
        ...base,
        level: "success",
        action: ACTION[o.op],
        message: `${o.op === "update" ? "Updated" : "Rolled back"} '${o.name}' to release ${release} in ${seconds(o.ms)}`,
        details: { release, durationMs: Math.round(o.ms) },
      };
    }
    const message =
      o.op === "create"
        ? o.info?.state === "running"
          ? `Created and started '${o.name}' in ${seconds(o.ms)}`
          : `Created container '${o.name}'`
        : `${PAST[o.op]} '${o.name}'${timed ? ` in ${seconds(o.ms)}` : ""}`;
    return {
      ...base,
      level: "success",
      action: ACTION[o.op],
      message,
      details: { durationMs: Math.round(o.ms) },
    };
  }
  const err = o.error instanceof BerthError ? o.error : undefined;
  // Refused requests (bad input, unknown container, over a quota or a rate) are the caller's business, not the feed's.
  if (!err || err.category === "validation" || err.category === "auth" || err.code === "RATE_LIMITED")
    return undefined;
  const details: Record<string, unknown> = { code: err.code };
  if (err.code === "UPDATE_ROLLED_BACK" || err.code === "ROLLBACK_FAILED") {
    const d = err.details ?? {};
    const what = o.op === "rollback" ? `Rollback to release ${d.release}` : `Update to release ${d.release}`;
    const why = describeGateCause(d.cause, d.exitCode);
    return {
      ...base,
      level: "error",
      action:
        err.code === "UPDATE_ROLLED_BACK"
          ? `container.${o.op}_rolled_back`
          : `container.${o.op}_rollback_failed`,
      message:
        err.code === "UPDATE_ROLLED_BACK"
          ? `${what} failed: ${why} — rolled back to release ${d.restoredRelease}`
          : `${what} failed: ${why}, and release ${d.restoredRelease} did not come back either. Update it again or delete it.`,
      details: {
        code: err.code,
        release: d.release,
        restoredRelease: d.restoredRelease,
        failedStep: d.failedStep,
        cause: d.cause,
        exitCode: d.exitCode,
        // What the failed release printed, as its owner was shown it (sanitised, redacted): the feed is
        // where anyone who did not run the update (a dashboard, a teammate) finds it. Bounded to 2 KiB: it is stored.
        output: feedOutput(d.output),
      },
    };
  }
  if (err.code === "NOT_READY") {
    const cause = err.details?.cause;
    const exitCode = err.details?.exitCode;
    details.cause = cause;
    if (exitCode !== undefined) details.exitCode = exitCode;
    return {
      ...base,
      containerId: o.id ?? (err.details?.containerId as string | undefined),
      level: "error",
      action: `container.${o.op}_not_ready`,
      message: notReadyMessage(o.name, cause, exitCode),
      details,
    };
  }
  return {
    ...base,
    level: "error",
    action: `container.${o.op}_failed`,
    message: `Could not ${o.op} '${o.name}': ${err.message}${err.retryable ? " Try again in a moment." : ""}`,
    details,
  };
}

function notReadyMessage(name: string, cause: unknown, exitCode: unknown): string {
  switch (cause) {
    case "exited":
      return `'${name}' exited with code ${exitCode} before it was ready. Check its output, fix its code, then start it again.`;
    case "bad_hello":
      return `'${name}' connected but did not introduce itself correctly. Check that it uses the berth SDK or protocol version 1.`;
    case "never_connected":
      return `'${name}' started but never connected to berth. Check that it connects to BERTH_SOCKET.`;
    default:
      return `'${name}' did not become ready in time. It is still running; check its output.`;
  }
}

/** Status changes that berth did not cause itself (the workload exited, the engine removed it, …). */
export function describeStatusChange(
  change: StatusChange,
  memoryLimitOf: (id: string) => number | undefined = () => undefined,
): ActivityDraft | undefined {
  const { info, from } = change;
  const base = { owner: info.owner, containerId: info.id, containerName: info.name };
  // Cluster mode: a workload moved off a host that was lost (relocate-container.ts).
  if (change.reason === NODE_LOST) {
    return {
      ...base,
      level: "warning",
      action: "container.host_lost",
      message: `The host '${info.name}' ran on was lost; berth is starting it on another host`,
    };
  }
  if (change.reason === MOVED) {
    return {
      ...base,
      level: "info",
      action: "container.moved",
      message: `'${info.name}' runs again, on another host`,
    };
  }
  if (info.state === "exited" && from !== "new") {
    // Exits of containers with a restart policy are told by the RestartSupervisor, with what it does about them.
    if (info.restartPolicy !== "no") return undefined;
    if (change.oomKilled) {
      const limit = memoryLimitOf(info.id);
      return {
        ...base,
        level: "error",
        action: "container.oom_killed",
        message: `'${info.name}' ran out of memory${ofLimit(limit)} and was stopped`,
        details: { exitCode: info.exitCode, memoryLimitBytes: limit },
      };
    }
    if (change.reason === "exited before ready") return undefined; // told by the operation's own entry
    const code = info.exitCode;
    return {
      ...base,
      level: code === 0 ? "info" : "warning",
      action: "container.exited",
      message:
        code === 0
          ? `'${info.name}' finished (exit code 0)`
          : `'${info.name}' stopped unexpectedly (exit code ${code ?? "unknown"})`,
      details: { exitCode: code },
    };
  }
  if (info.state === "missing") {
    return {
      ...base,
      level: "warning",
      action: "container.missing",
      message: `'${info.name}' was removed outside berth; delete it or create it again`,
    };
  }
  if (info.state === "paused" || (from === "paused" && info.state === "running")) {
    return {
      ...base,
      level: "info",
      action: `container.${info.state === "paused" ? "paused" : "unpaused"}`,
      message: `'${info.name}' was ${info.state === "paused" ? "paused" : "resumed"}`,
    };
  }
  return undefined;
}

/** " (its limit is 64 MiB)", or nothing when the limit is not known. */
export function ofLimit(memoryLimitBytes: number | undefined): string {
  return memoryLimitBytes === undefined ? "" : ` (its limit is ${bytes(memoryLimitBytes)})`;
}

/**
 * An operation that a crash of berth cut half-way, and what berth did about
 * it when it started again: nobody received the operation's own answer, so
 * the feed is where its owner learns whether it happened.
 */
export function describeInterrupted(i: InterruptedOperation): ActivityDraft {
  const base = { owner: i.owner, containerId: i.id, containerName: i.name };
  const cut = "when berth stopped unexpectedly";
  const message = ((): string => {
    switch (i.op) {
      case "create":
        return `Creating '${i.name}' was interrupted ${cut}; berth removed what it had made. Create it again.`;
      case "delete":
        return `Deleting '${i.name}' was interrupted ${cut}; berth finished deleting it.`;
      case "update":
        return `An update or rollback of '${i.name}' was interrupted ${cut}; berth put release ${i.release ?? "none"} back${i.state === "running" ? " and it is running" : ""}. Update it again if you still want the new code.`;
      case "stop":
        return `Stopping '${i.name}' was interrupted ${cut}; berth finished stopping it.`;
      default:
        return `${i.op === "start" ? "Starting" : "Restarting"} '${i.name}' was interrupted ${cut}; berth finished it, and '${i.name}' is running.`;
    }
  })();
  return {
    ...base,
    level: i.outcome === "undone" ? "warning" : "info",
    action: `container.${i.op}_interrupted`,
    message,
    details: { outcome: i.outcome, ...(i.release !== undefined ? { release: i.release } : {}) },
  };
}

/** A workload the Docker engine stopped as it went away (no live-restore), running again now that it is back. */
export function describeBroughtBack(info: ContainerInfo): ActivityDraft {
  return {
    owner: info.owner,
    containerId: info.id,
    containerName: info.name,
    level: "success",
    action: "container.engine_restarted",
    message: `Restarted '${info.name}' after the Docker engine came back: it had stopped when the engine went away`,
  };
}

/** A workload the engine's outage stopped that berth could not start again once the engine was back (not for the engine being gone again). */
export function describeBringBackFailed(info: ContainerInfo): ActivityDraft {
  return {
    owner: info.owner,
    containerId: info.id,
    containerName: info.name,
    level: "error",
    action: "container.engine_restart_failed",
    message: `berth could not start '${info.name}' again after the Docker engine came back. Start it again or check its code.`,
  };
}

/** The restart policy's start after an exit failed (RestartSupervisor `restartFailed`): the owner has to act. */
export function describeRestartFailed(info: Pick<ContainerInfo, "owner" | "id" | "name">): ActivityDraft {
  return {
    owner: info.owner,
    level: "error",
    action: "container.restart_failed",
    containerId: info.id,
    containerName: info.name,
    message: `berth could not restart '${info.name}'. Start it again or check its code.`,
  };
}
