import type { RestartEvent } from "../containers/restart-supervisor.ts";
import type { ActivityDraft } from "./activity-entry.ts";
import { ofLimit } from "./activity-messages.ts";

/**
 * An exit of a container with a restart policy, and what the RestartSupervisor does about it
 * (restart it after a delay, give up, or nothing: it finished), in plain words for its owner.
 * `memoryLimitBytes` is named when it ran out of memory (undefined: not known).
 */
export function describeRestart(
  { info, exitCode, oomKilled, decision }: RestartEvent,
  memoryLimitBytes: number | undefined,
): ActivityDraft | undefined {
  const base = { owner: info.owner, containerId: info.id, containerName: info.name };
  const what = oomKilled
    ? `'${info.name}' ran out of memory${ofLimit(memoryLimitBytes)}`
    : `'${info.name}' stopped unexpectedly (exit code ${exitCode ?? "unknown"})`;
  switch (decision.kind) {
    case "restart":
      return {
        ...base,
        level: "warning",
        action: oomKilled ? "container.oom_restarted" : "container.crash_restarted",
        message: `${what} and is being restarted (attempt ${decision.attempt} of ${decision.max})`,
        details: {
          exitCode,
          oomKilled,
          ...(oomKilled ? { memoryLimitBytes } : {}),
          attempt: decision.attempt,
          maxAttempts: decision.max,
          delayMs: decision.delayMs,
        },
      };
    case "give_up":
      return {
        ...base,
        level: "error",
        action: "container.restart_gave_up",
        message: `${what}. berth stopped restarting it after ${decision.attempts} attempts; check its output, fix its code, then start it again.`,
        details: {
          exitCode,
          oomKilled,
          ...(oomKilled ? { memoryLimitBytes } : {}),
          attempts: decision.attempts,
        },
      };
    default:
      return {
        ...base,
        level: "info",
        action: "container.exited",
        message: `'${info.name}' finished (exit code ${exitCode ?? 0})`,
        details: { exitCode },
      };
  }
}
