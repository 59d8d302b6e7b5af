import pg from "pg";
import type { SystemLogger } from "../../logging/system-logger.ts";
import { asPgStorageError } from "./pg-errors.ts";

/** What runs a statement: the pool (one statement, its own transaction) or a client inside a transaction. */
export interface PgQueryable {
  query<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>>;
}

/**
 * int8 (COUNT, SUM, BIGINT columns: milliseconds, byte counts, activity ids)
 * and numeric as JS numbers. Every value berth keeps in them is far below
 * 2^53, and its records hold numbers, not the strings `pg` gives by default.
 */
const INT8 = 20;
const NUMERIC = 1700;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as "text");
  }) as pg.CustomTypesConfig["getTypeParser"],
};

/**
 * One pool of connections to berth's PostgreSQL database. Every statement
 * goes through `run`, by name: `pg` prepares a named statement once per
 * connection and then only binds it, so a read costs one round trip and no
 * parse or plan. Failures of the server come out as STORAGE_ERROR (see
 * pg-errors.ts) with the URL's password blanked.
 */
export class PgDatabase {
  readonly #pool: pg.Pool;
  readonly #hide: (text: string) => string;
  #closing: Promise<void> | undefined;

  /** `max`: connections at most (default 10); a pool of another purpose (cluster locks) sizes its own. */
  constructor(url: string, log?: SystemLogger, options: { max?: number } = {}) {
    // Both forms: as written in the URL (percent-encoded) and as the server receives it.
    const forms = passwordForms(url);
    this.#hide = (text) => forms.reduce((t, form) => t.split(form).join("[REDACTED]"), text);
    this.#pool = new pg.Pool({
      connectionString: url,
      types,
      // A server that does not answer fails the request with STORAGE_ERROR rather than hanging it.
      connectionTimeoutMillis: 10_000,
      max: options.max ?? 10,
    });
    // An idle connection the server dropped (a restart, a terminated backend): the pool discards it
    // and the next statement opens another. Without a listener the error would end the process.
    this.#pool.on("error", (err) =>
      log?.warn({ reason: this.#hide(err.message) }, "lost an idle connection to the database"),
    );
    // The pool hears a connection's errors only while it is idle: one held by a transaction or a migration
    // that the server ends between two statements would emit an 'error' nobody hears, and end the process.
    // Heard here, it is not lost: the statement running on it fails, the next one on it fails as not
    // queryable, and the holder releases it as broken.
    this.#pool.on("connect", (client) => {
      client.on("error", () => {});
    });
  }

  /** Blanks the URL's password from a text. */
  hide(text: string): string {
    return this.#hide(text);
  }

  /** Maps a failure of the server to STORAGE_ERROR; anything else passes through. */
  mapError(err: unknown): unknown {
    return asPgStorageError(err, this.#hide);
  }

  async run<R extends pg.QueryResultRow>(
    name: string,
    text: string,
    values: unknown[] = [],
    on: PgQueryable = this.#pool,
  ): Promise<pg.QueryResult<R>> {
    try {
      return await on.query<R>({ name, text, values });
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /** Runs `fn` in one transaction on one connection: all of it commits, or none. */
  async transaction<T>(fn: (tx: PgQueryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.mapError(err);
    }
    let broken: Error | undefined;
    try {
      await this.run("begin", "BEGIN", [], client);
      const result = await fn(client);
      await this.run("commit", "COMMIT", [], client);
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackErr) {
        // The connection itself failed: it must not go back to the pool.
        broken = rollbackErr as Error;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** A connection of its own, for work that spans statements outside a transaction (migrations under a session lock). */
  async connect(): Promise<pg.PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /** Closes every connection; safe to call twice (the second waits for the first). */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }
}

/**
 * The password a connection URL carries, as written and decoded; none when it
 * has none. The form as written is kept whatever its escapes: a malformed one
 * (`ab%zz`) cannot be decoded, and must be hidden all the same.
 */
export function passwordForms(url: string): string[] {
  let raw: string;
  try {
    raw = new URL(url).password;
  } catch {
    // Not a URL `URL` reads: the text between "user:" and the last "@" of the authority, if any.
    raw = /^[^:/?#]+:\/\/[^:/?#@]*:([^/?#]*)@/.exec(url)?.[1] ?? "";
  }
  if (!raw) return [];
  const decoded = safeDecode(raw);
  return decoded === undefined || decoded === raw ? [raw] : [raw, decoded];
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
