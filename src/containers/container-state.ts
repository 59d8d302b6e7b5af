import type { ContainerState } from "#protocol";
/** What the engine's own state means in berth's words, given what berth last knew. */
export function stateFromEngine(engineState: string, previous: ContainerState): ContainerState {
  switch (engineState) {
    case "running":
      return "running";
    case "paused":
      return "paused";
    case "restarting":
      return "restarting";
    case "created":
      return previous === "stopped" ? "stopped" : "created";
    case "removing":
      // Someone else is removing it (`docker rm -f`): berth's own delete records
      // its own state and never asks the engine meanwhile. Taken for berth's
      // `removing`, the row would wait forever for a delete that nobody makes.
      return "missing";
    default:
      // exited, dead: stopped if berth stopped it, exited if it stopped by itself
      return previous === "stopped" || previous === "stopping" ? "stopped" : "exited";
  }
}

/** The states from which each operation may begin; anything else is a CONFLICT. */
export const STARTABLE: ReadonlySet<ContainerState> = new Set([
  "created",
  "stopped",
  "exited",
  "failed",
  "running",
  "restarting",
]);
export const STOPPABLE: ReadonlySet<ContainerState> = new Set([
  "created",
  "running",
  "starting",
  "stopped",
  "exited",
  "paused",
  "restarting",
  "failed",
]);
