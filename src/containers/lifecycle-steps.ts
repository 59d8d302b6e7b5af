import type { ContainerState } from "#protocol";
import type { CodeEntryList } from "../code/code-entry.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import type { Actor } from "./actor.ts";

/** berth's own multi-step operations that drive lifecycle through these steps, as the activity feed names them. */
export type SteppedOperation = "update" | "rollback";

/** The two parts of a stepped operation: work before the container's turn, then the steps in it. */
export interface OperationSteps<T, P> {
  /** Before the turn is taken (a check of what the caller sent): part of the operation, as its outcome is. */
  prepare?: () => Promise<P>;
  /** In the container's turn, alone on it, with its record as it is now. */
  inTurn: (current: ContainerRecord, prepared: P) => Promise<T>;
}

/**
 * The narrow port through which berth's own multi-step operations — a code
 * update or rollback, the recovery of one a crash cut, the finish of a start
 * or stop a crash cut — drive a container's lifecycle, without reaching into
 * the ContainerManager's queue or writing states as if the engine had
 * reported them. The lifecycle implements it (ContainerManager.steps); the
 * updater knows nothing else of lifecycle.
 *
 * The steps that touch the workload's process record no state: the operation
 * says which state it reached, once it knows (`reach`), and every such write
 * is checked against the transition table as one of berth's own (cause
 * "operation").
 *
 * @example
 *   await steps.runOperation("update", record, {
 *     inTurn: async (current) => {
 *       await steps.reach(current, "updating", "switching to release 2");
 *       await steps.stop(current);
 *       // … switch the code …
 *       const since = await steps.start(current);
 *       await steps.waitUntilReady(current, since, 10_000);
 *       await steps.reach(current, "running", "release 2 is running");
 *     },
 *   });
 */
export interface LifecycleSteps {
  /** Finds a container by id or name as `actor` may see it (NOT_FOUND otherwise). */
  resolve(actor: Actor, ref: string): Promise<ContainerRecord>;
  /**
   * CONFLICT when the operation running on the container lost its cluster-wide lock (cluster mode): a
   * fence before a write that is not a state write (the switch of a release). Never throws on one host.
   */
  assertHeld(record: ContainerRecord): void;
  /**
   * Runs `op` on the container: its outcome and time reported (the activity
   * feed), `inTurn` alone in the container's turn — CONFLICT at once when
   * another operation is running or waiting, NOT_FOUND when it is gone by then.
   */
  runOperation<T, P = undefined>(
    op: SteppedOperation,
    record: ContainerRecord,
    steps: OperationSteps<T, P>,
  ): Promise<T>;
  /** Stops the workload for a switch of its code (or to finish a stop a crash cut); records nothing. */
  stop(record: ContainerRecord): Promise<void>;
  /** Starts the workload, waiting for a turn at the engine, and records nothing; answers when it asked, for `waitUntilReady`. */
  start(record: ContainerRecord): Promise<number>;
  /** NOT_READY (with its cause, exit code and output) unless a hello arrives after `since` within `timeoutMs`. */
  waitUntilReady(record: ContainerRecord, since: number, timeoutMs: number): Promise<void>;
  /** The last lines of the workload's output since `sinceMs` (all it kept, without), as its owner may see them. */
  recentOutput(record: ContainerRecord, sinceMs?: number): Promise<string[]>;
  /** Records a state the operation reached, with what changed; checked as one of berth's own moves. */
  reach(
    record: ContainerRecord,
    state: ContainerState,
    reason: string,
    changes?: Partial<ContainerRecord>,
  ): Promise<void>;
  /**
   * Starts the workload and records it running, for a start berth makes on its
   * own (an update a crash cut, undone; a start or restart it cut, finished).
   */
  startRunning(record: ContainerRecord, reason: string, changes?: Partial<ContainerRecord>): Promise<void>;
  /** VALIDATION_FAILED when new code lacks the file the container's image runs by default (and it names no command). */
  checkEntryFile(record: ContainerRecord, entries: CodeEntryList): Promise<void>;
  /** Text that came from the workload (an error it answered with), as its owner may see it. */
  presentWorkloadText(record: ContainerRecord, text: string): string;

  // ---- For the recovery of operations a crash cut, at start-up and when the engine returns. ----

  /** Every container record, whoever owns it. */
  all(): Promise<ContainerRecord[]>;
  /** The record by id, whoever owns it; undefined when it is gone. */
  findById(id: string): Promise<ContainerRecord | undefined>;
  /** Whether one of this berth's operations is running or waiting on the container (it settles the row itself). */
  underWay(id: string): boolean;
  /** Runs `fn` in the container's turn, after what is queued before it; no outcome is reported. */
  recoveryTurn<T>(id: string, fn: () => Promise<T>): Promise<T>;
}
