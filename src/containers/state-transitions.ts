import type { ContainerState } from "#protocol";
import { InternalError } from "../errors/errors.ts";

/**
 * Who moves a container from one state to another: one of berth's own
 * operations (a step of a create, start, stop, restart, delete, update or
 * rollback, or the recovery of one a crash cut), or the engine, whose events
 * and resyncs tell berth what happened without it (an exit, a `docker stop`
 * from outside, a container that vanished).
 */
export type TransitionCause = "operation" | "engine";

/**
 * Every state an operation may move a container to, by the state it is in.
 * A state may always be written again with new facts (same state to same
 * state). `removing` leads nowhere: the row goes when the delete finishes,
 * and a failed delete is asked again from `removing`.
 *
 * Why some entries are there:
 * - a step that fails because the engine cannot be reached records the state
 *   from before it (nothing happened), so `starting` and `stopping` lead back
 *   to every state a start or a stop begins from;
 * - `running → exited`: the workload exited before it said hello;
 * - `updating` is entered from any state but `removing` and `missing` (an
 *   update of a stopped container switches its code and leaves it running);
 * - `→ running` from `stopped`, `exited`, `failed`, `updating`, `restarting`
 *   and `starting` is a start berth makes as one step (an update's gate, a
 *   cut start or update finished at start-up);
 * - `stopping → stopped` also finishes a stop a crash cut;
 * - every state an operation may begin from (STARTABLE, STOPPABLE in
 *   container-state.ts) leads to the state it enters first: `starting →
 *   stopping` is a stop of a container whose start the store could not
 *   finish recording (a full disk left it `starting`), which its owner must
 *   still be able to stop.
 */
const BY_OPERATION: { readonly [S in ContainerState]: readonly ContainerState[] } = {
  created: ["starting", "running", "restarting", "updating", "removing", "failed", "exited"],
  starting: [
    "running",
    "failed",
    "exited",
    "created",
    "stopped",
    "stopping",
    "restarting",
    "updating",
    "removing",
  ],
  running: ["stopping", "restarting", "updating", "removing", "exited", "failed"],
  stopping: ["stopped", "failed", "running", "starting", "paused", "restarting", "updating", "removing"],
  stopped: ["starting", "running", "restarting", "updating", "removing"],
  exited: ["starting", "running", "stopped", "restarting", "updating", "removing"],
  restarting: ["running", "failed", "starting", "stopping", "updating", "removing"],
  updating: ["running", "failed", "removing"],
  paused: ["stopping", "restarting", "updating", "removing"],
  removing: [],
  missing: ["removing"],
  failed: ["starting", "running", "stopping", "restarting", "updating", "removing"],
};

/**
 * What the engine can be seen to do to a container in any state berth keeps
 * (see `stateFromEngine`): run it, pause it, restart it, stop it (or find it
 * stopped), or lose it. Only a container berth is removing is left alone: its
 * delete records its own outcome.
 */
const ENGINE_REPORTS: ReadonlySet<ContainerState> = new Set([
  "created",
  "running",
  "paused",
  "restarting",
  "stopped",
  "exited",
  "missing",
]);

/** Whether `cause` may move a container from `from` to `to`. */
export function isAllowedTransition(
  from: ContainerState,
  to: ContainerState,
  cause: TransitionCause,
): boolean {
  if (from === to) return true;
  if (cause === "engine") return from !== "removing" && ENGINE_REPORTS.has(to);
  return BY_OPERATION[from].includes(to);
}

/**
 * Refuses a move the table does not list, before anything is written. Such a
 * move is a bug in berth (an operation that forgot a state, or two that
 * raced), so it is an INTERNAL error with both states in its details.
 */
export function assertTransition(from: ContainerState, to: ContainerState, cause: TransitionCause): void {
  if (!isAllowedTransition(from, to, cause)) {
    throw new InternalError({ details: { transition: `${from} → ${to}`, cause } });
  }
}
