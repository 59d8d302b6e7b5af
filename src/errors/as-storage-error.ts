import { BerthError } from "./berth-error.ts";
import { StorageError } from "./errors.ts";

/**
 * A failure to write berth's own files (a full or read-only disk, an I/O
 * error) as STORAGE_ERROR; anything else passes through unchanged. Each store
 * maps its own database's failures the same way (see src/store).
 */
export function asStorageError(err: unknown): unknown {
  if (err instanceof BerthError) return err;
  const e = err as NodeJS.ErrnoException;
  if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) {
    return new StorageError({ cause: err, details: { reason: e.code } });
  }
  return err;
}
