import type { CallAnswer } from "../agent-link/agent-link-contract.ts";
import { FILES_OPS, type FilesOp, isFilesOp, type ParsedFilesArgsOf } from "../agent-link/files-ops.ts";
import { toLinkError } from "../agent-link/link-error.ts";
import type { CodeEntryList } from "../code/code-entry.ts";
import { asStorageError } from "../errors/as-storage-error.ts";
import { ValidationError } from "../errors/errors.ts";
import { fromZodError } from "../errors/to-wire.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import type { GenerationFence } from "./generation-fence.ts";

type Invokers = { [O in FilesOp]: (args: ParsedFilesArgsOf<O>) => Promise<unknown> };

/**
 * Serves API servers' `files` calls on this node's workload files. Every
 * call is checked before anything is written: an operation of the allow-list
 * (FILES_OPS), a berth container id, a positive release number, and entries
 * that pass berth's own upload checks (files-ops.ts) — an API server's word
 * for a path is never taken. A failure of the file system travels as
 * STORAGE_ERROR (its text and the node's paths stay in this log).
 */
export class FilesCallServer {
  readonly #files: WorkloadFiles;
  readonly #log: SystemLogger;
  readonly #generations: GenerationFence | undefined;

  /** `generations`: the agent's fence; a call stamped with an older generation than it knows is refused. */
  constructor(files: WorkloadFiles, log: SystemLogger, generations?: GenerationFence) {
    this.#files = files;
    this.#log = log;
    this.#generations = generations;
  }

  async answer(op: string, args: unknown[], generation?: number): Promise<CallAnswer> {
    if (!isFilesOp(op))
      return failed(new ValidationError(`The node agent has no files operation named '${op}'.`));
    const parsed = FILES_OPS[op].args.safeParse(args);
    if (!parsed.success) {
      this.#log.warn({ op, issues: parsed.error.issues.length }, "refused a files call's arguments");
      return failed(fromZodError(parsed.error));
    }
    const id = parsed.data[0];
    try {
      this.#generations?.check(id, generation);
    } catch (err) {
      this.#log.warn({ err, op, containerId: id }, "refused a files call routed by an older placement");
      return failed(err);
    }
    // The workload's files leave this node: its generation goes with them (the next stamped call, or a
    // create, tells it again), so that the fence holds one entry per workload on the node, not per one ever seen.
    if (op === "removeAll") this.#generations?.forget(id);
    try {
      const invoke = this.#invokers[op] as (args: unknown) => Promise<unknown>;
      return { ok: true, value: (await invoke(parsed.data)) ?? null };
    } catch (err) {
      this.#log.warn({ err, op, containerId: parsed.data[0] }, "files call failed");
      return failed(asStorageError(err));
    }
  }

  readonly #invokers: Invokers = {
    layOut: ([id, entries]) => this.#layOut(id, entries ?? undefined),
    writeRelease: ([id, release, entries]) => this.#files.writeRelease(id, release, entries),
    switchRelease: ([id, release]) => this.#files.switchRelease(id, release),
    currentRelease: ([id]) => this.#files.currentRelease(id),
    removeRelease: ([id, release]) => this.#files.removeRelease(id, release),
    removeAll: ([id]) => this.#files.removeAll(id),
    sweepCrashLeftovers: ([id]) => this.#files.sweepCrashLeftovers(id),
  };

  /** Lays the files out, and on a failure half-way undoes what it made here: nothing is left behind. */
  async #layOut(id: string, entries: CodeEntryList | undefined): Promise<void> {
    const undo: Array<() => Promise<void> | void> = [];
    try {
      await this.#files.layOut(id, entries, { push: (_what, step) => undo.push(step) });
    } catch (err) {
      for (let step = undo.pop(); step; step = undo.pop()) {
        try {
          await step();
        } catch (cleanup) {
          this.#log.error({ err: cleanup, containerId: id }, "could not undo a lay-out that failed");
        }
      }
      throw err;
    }
  }
}

function failed(err: unknown): CallAnswer {
  return { ok: false, error: toLinkError(err) };
}
