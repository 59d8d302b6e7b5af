import { chmod, mkdir, rm } from "node:fs/promises";
import type { CodeEntryList } from "../code/code-entry.ts";
import { currentRelease, switchRelease } from "../code/release-pointer.ts";
import { writeReleaseEntries } from "../code/write-release-entries.ts";
import { asStorageError } from "../errors/as-storage-error.ts";
import type { ContainerPaths } from "./container-paths.ts";
import { removeCrashLeftovers } from "./crash-leftovers.ts";
import type { UndoSteps, WorkloadFiles } from "./workload-files.ts";

/**
 * A workload's files on this host, under ContainerPaths: what single-host
 * berth has always done, and what a node agent does under its own root.
 * Directories are 0755 and owned by this process (root in production);
 * release files 0644 or 0755 (writeReleaseEntries): readable by the
 * workload's own uid, writable by nobody but berth.
 */
export class LocalWorkloadFiles implements WorkloadFiles {
  readonly #paths: ContainerPaths;

  constructor(paths: ContainerPaths) {
    this.#paths = paths;
  }

  async layOut(id: string, code: CodeEntryList | undefined, undo: UndoSteps): Promise<void> {
    const paths = this.#paths;
    try {
      undo.push("remove code", () => rm(paths.codeDir(id), { recursive: true, force: true }));
      await mkdir(paths.codeDir(id), { recursive: true, mode: 0o755 });
      // mkdir's mode is cut by the umask: under 077 the workload's own uid could not enter its code
      // (the directory is the mount's root) nor reach its socket.
      await chmod(paths.codeDir(id), 0o755);
      if (code) {
        await writeReleaseEntries(paths.releaseDir(id, 1), code);
        await switchRelease(paths.codeDir(id), 1);
      }
      undo.push("remove socket directory", () => rm(paths.socketDir(id), { recursive: true, force: true }));
      await mkdir(paths.socketDir(id), { recursive: true, mode: 0o755 });
      await chmod(paths.socketDir(id), 0o755);
    } catch (err) {
      throw asStorageError(err);
    }
  }

  writeRelease(id: string, release: number, entries: CodeEntryList): Promise<void> {
    return writeReleaseEntries(this.#paths.releaseDir(id, release), entries);
  }

  switchRelease(id: string, release: number): Promise<void> {
    return switchRelease(this.#paths.codeDir(id), release);
  }

  currentRelease(id: string): Promise<number | undefined> {
    return currentRelease(this.#paths.codeDir(id));
  }

  removeRelease(id: string, release: number): Promise<void> {
    return rm(this.#paths.releaseDir(id, release), { recursive: true, force: true });
  }

  async removeAll(id: string): Promise<void> {
    try {
      await rm(this.#paths.socketDir(id), { recursive: true, force: true });
      await rm(this.#paths.codeDir(id), { recursive: true, force: true });
    } catch (err) {
      throw asStorageError(err);
    }
  }

  sweepCrashLeftovers(id: string): Promise<string[]> {
    return removeCrashLeftovers(this.#paths.codeDir(id));
  }

  socketDir(id: string): string {
    return this.#paths.socketDir(id);
  }

  codeDir(id: string): string {
    return this.#paths.codeDir(id);
  }
}
