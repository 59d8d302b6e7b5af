import { mkdir, rm } from "node:fs/promises";
import type { CodeEntryList } from "../code/code-entry.ts";
import { switchRelease } from "../code/release-pointer.ts";
import { releaseStats } from "../code/release-stats.ts";
import { writeReleaseEntries } from "../code/write-release-entries.ts";
import { asStorageError } from "../errors/as-storage-error.ts";
import type { ReleaseStore } from "../store/store-ports.ts";
import type { ContainerPaths } from "./container-paths.ts";
import type { UndoStack } from "./undo-stack.ts";

/**
 * Lays out a new container's files on the host: its code directory — with
 * release 1 active when the spec came with code — and its socket directory.
 * Each step pushes its undo before it starts, so that a failure half-way
 * leaves nothing once the stack unwinds. File-system failures (disk full,
 * read-only) become STORAGE_ERROR, with the raw error as the cause.
 */
export async function layOutContainerFiles(o: {
  paths: ContainerPaths;
  releases: ReleaseStore;
  id: string;
  code: CodeEntryList | undefined;
  createdAt: number;
  createdBy: string;
  undo: UndoStack;
}): Promise<void> {
  const { paths, id, undo } = o;
  try {
    undo.push("remove code", () => rm(paths.codeDir(id), { recursive: true, force: true }));
    await mkdir(paths.codeDir(id), { recursive: true, mode: 0o755 });
    if (o.code) {
      await writeReleaseEntries(paths.releaseDir(id, 1), o.code);
      await switchRelease(paths.codeDir(id), 1);
      await o.releases.insert({
        containerId: id,
        number: 1,
        status: "active",
        createdAt: o.createdAt,
        createdBy: o.createdBy,
        ...releaseStats(o.code),
      });
    }
    undo.push("remove socket directory", () => rm(paths.socketDir(id), { recursive: true, force: true }));
    await mkdir(paths.socketDir(id), { recursive: true, mode: 0o755 });
  } catch (err) {
    throw asStorageError(err);
  }
}

/** Removes a container's socket and code directories; failures become STORAGE_ERROR. */
export async function removeContainerFiles(paths: ContainerPaths, id: string): Promise<void> {
  try {
    await rm(paths.socketDir(id), { recursive: true, force: true });
    await rm(paths.codeDir(id), { recursive: true, force: true });
  } catch (err) {
    throw asStorageError(err);
  }
}
