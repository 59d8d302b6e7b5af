import { asStorageError as asFileStorageError } from "../../errors/as-storage-error.ts";
import { BerthError } from "../../errors/berth-error.ts";
import { StorageError } from "../../errors/errors.ts";
import { NameTakenError, UidTakenError } from "../store-errors.ts";

/** SQLite's primary result codes that mean "the disk said no" (full, read-only, I/O, cannot open). */
const STORAGE_CODES = new Set([13, 8, 10, 14]);
/** SQLITE_CONSTRAINT_UNIQUE (extended result code). */
const CONSTRAINT_UNIQUE = 2067;

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

/** A failure of SQLite's file or of the disk as STORAGE_ERROR; anything else passes through unchanged. */
export function asStorageError(err: unknown): unknown {
  if (err instanceof BerthError) return err;
  const e = err as NodeJS.ErrnoException & { errcode?: number; errstr?: string };
  if (e.code === "ERR_SQLITE_ERROR") {
    if (e.errcode === undefined || !STORAGE_CODES.has(e.errcode & 0xff)) return err;
    return new StorageError({ cause: err, details: { reason: e.errstr ?? "database error" } });
  }
  return asFileStorageError(err);
}

/**
 * SQLite's UNIQUE failure on a container insert as the uniqueness it broke:
 * the (owner, name) index or the uid's. Anything else passes through.
 */
export function asUniquenessError(err: unknown, owner: string, name: string, uid: number): unknown {
  const e = err as { code?: string; errcode?: number; message?: string };
  if (e.code !== "ERR_SQLITE_ERROR" || e.errcode !== CONSTRAINT_UNIQUE) return err;
  // SQLite names the columns of the broken index: "UNIQUE constraint failed: containers.uid".
  if (/containers\.uid\b/.test(e.message ?? "")) return new UidTakenError(uid, { cause: err });
  if (/containers\.name\b/.test(e.message ?? "")) return new NameTakenError(owner, name, { cause: err });
  return err;
}
