import { BerthError } from "../errors/berth-error.ts";
import { StorageError } from "../errors/errors.ts";

/** SQLite's primary result codes that mean "the disk said no" (full, read-only, I/O, cannot open). */
const STORAGE_CODES = new Set([13, 8, 10, 14]);

/**
 * Runs one store write and turns a failure of the disk underneath (full,
 * read-only, I/O error) into STORAGE_ERROR, so every operation reports it the
 * same way. Constraint violations pass through: callers read them (a name
 * already taken is NAME_CONFLICT, not a storage problem).
 */
export function guardStorage<T>(write: () => T): T {
  try {
    return write();
  } catch (err) {
    throw asStorageError(err);
  }
}

/** A failure to write berth's own files or store, as STORAGE_ERROR; anything else passes through unchanged. */
export function asStorageError(err: unknown): unknown {
  if (err instanceof BerthError) return err;
  const e = err as NodeJS.ErrnoException & { errcode?: number; errstr?: string };
  if (e.code === "ERR_SQLITE_ERROR") {
    if (e.errcode === undefined || !STORAGE_CODES.has(e.errcode & 0xff)) return err;
    return new StorageError({ cause: err, details: { reason: e.errstr ?? "database error" } });
  }
  if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) {
    return new StorageError({ cause: err, details: { reason: e.code } });
  }
  return err;
}
