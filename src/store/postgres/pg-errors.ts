import { BerthError } from "../../errors/berth-error.ts";
import { StorageError } from "../../errors/errors.ts";

/**
 * SQLSTATE classes and codes that mean "the database cannot do it now", not
 * "berth asked for something wrong": connection exceptions (08), insufficient
 * resources (53: disk full 53100, out of memory 53200, too many connections
 * 53300), operator intervention (57: the server shutting down, a backend
 * terminated), system errors (58: I/O), and a read-only transaction (25006: a
 * standby, or `default_transaction_read_only`).
 */
const STORAGE_CLASSES = new Set(["08", "53", "57", "58"]);
const STORAGE_CODES: ReadonlyMap<string, string> = new Map([
  ["53100", "the database server's disk is full"],
  ["53200", "the database server is out of memory"],
  ["53300", "the database server has too many connections"],
  ["25006", "the database is read-only"],
  ["57P01", "the database server is shutting down"],
  ["57P02", "the database server is shutting down"],
  ["57P03", "the database server is not accepting connections yet"],
  ["58030", "the database server could not read or write its files"],
]);

/**
 * What `pg` throws, without a SQLSTATE, when the connection is gone or never
 * came: a socket closed under a query, a connect that timed out, a client or
 * pool used after it broke or ended.
 */
const CONNECTION_LOST =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|is not queryable|after calling end on the pool/i;

interface PgErrorLike {
  code?: unknown;
  message?: unknown;
  severity?: unknown;
}

/**
 * A failure of the database underneath as STORAGE_ERROR, with a reason an
 * operator can act on; anything else (a constraint, a bug in a statement)
 * passes through unchanged for the caller to read. `hide` blanks the
 * connection URL's password from the reason: whatever the server or the
 * driver said, the password never travels in an error.
 */
/** What a client is told when the database failed it: not the registry's words, which speak of a data directory. */
export const PG_STORAGE_MESSAGE = "berth could not read or write its database.";

export function asPgStorageError(err: unknown, hide: (text: string) => string): unknown {
  if (err instanceof BerthError || typeof err !== "object" || err === null) return err;
  const e = err as PgErrorLike;
  const code = typeof e.code === "string" ? e.code : undefined;
  const message = typeof e.message === "string" ? e.message : "";
  let reason: string | undefined;
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    const known = STORAGE_CODES.get(code);
    if (known) reason = `${known} (${code})`;
    else if (STORAGE_CLASSES.has(code.slice(0, 2))) reason = `${message} (${code})`;
  } else if (code !== undefined && /^E[A-Z]+$/.test(code)) {
    reason = `the database server is unreachable (${code})`;
  } else if (CONNECTION_LOST.test(message)) {
    reason = `the connection to the database was lost (${message})`;
  }
  if (reason === undefined) return err;
  return new StorageError({ cause: err, details: { reason: hide(reason) } }, PG_STORAGE_MESSAGE);
}

/** The SQLSTATE of a unique violation, and the constraint it names. */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  if (e?.code !== "23505") return undefined;
  return typeof e.constraint === "string" ? e.constraint : "";
}
