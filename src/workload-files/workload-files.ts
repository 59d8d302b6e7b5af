import type { CodeEntryList } from "../code/code-entry.ts";

/** Where a step that makes something records how to unmake it (the create path's UndoStack). */
export interface UndoSteps {
  push(what: string, undo: () => Promise<void> | void): void;
}

/**
 * A workload's files on the host it runs on: its code directory (immutable
 * releases and the `current` pointer, mounted read-only at /run/berth-code)
 * and its socket directory (mounted read-only at /run/berth). On one host
 * berth writes them itself (LocalWorkloadFiles); in a cluster the agent of
 * the workload's node does, under its own root (RemoteWorkloadFiles). The
 * release rows are the store's: this is only the files.
 *
 * Ids are berth container ids, never client text; release numbers are the
 * store's. What each method throws is what the local file system throws,
 * except where a method says STORAGE_ERROR; across a node agent every
 * failure arrives as berth's own error (STORAGE_ERROR, VALIDATION_FAILED, or
 * DOCKER_UNAVAILABLE while the node's agent is away).
 *
 * @example
 *   await files.writeRelease(id, 2, entries);
 *   await files.switchRelease(id, 2);
 *   const body = buildCreateBody({ ..., socketDir: files.socketDir(id), codeDir: files.codeDir(id) });
 */
export interface WorkloadFiles {
  /**
   * A new workload's directories: its code directory — with release 1 written
   * and active when it came with code — and its socket directory. Each step
   * pushes its undo on `undo` before it starts, so a failure half-way leaves
   * nothing once the stack unwinds. Failures are STORAGE_ERROR.
   */
  layOut(id: string, code: CodeEntryList | undefined, undo: UndoSteps): Promise<void>;
  /** Writes release `release` from checked entries, all at once (never half a release). */
  writeRelease(id: string, release: number, entries: CodeEntryList): Promise<void>;
  /** Points `current` at release `release` in one atomic rename, synced to disk. */
  switchRelease(id: string, release: number): Promise<void>;
  /** The release `current` names; undefined when there is none. */
  currentRelease(id: string): Promise<number | undefined>;
  /** Removes release `release`'s directory; one that is not there is no failure. */
  removeRelease(id: string, release: number): Promise<void>;
  /** Removes the workload's socket and code directories; failures are STORAGE_ERROR. */
  removeAll(id: string): Promise<void>;
  /**
   * Removes what a crash can leave half-written in the code directory; the
   * names removed. Only to be called with no write under way.
   */
  sweepCrashLeftovers(id: string): Promise<string[]>;
  /** The socket directory as the engine of the workload's host sees it (the bind mount's source). */
  socketDir(id: string): string;
  /** The code directory as the engine of the workload's host sees it (the bind mount's source). */
  codeDir(id: string): string;
}
