import pg from "pg";
import { passwordForms } from "../store/postgres/pg-database.ts";
import { asPgStorageError } from "../store/postgres/pg-errors.ts";
import type { LockKey } from "./lock-key.ts";
import type { LockSession, LockSessionOptions } from "./lock-session.ts";

/** How long `close()` waits for the server to hear the goodbye before it drops the socket (a server cut off never answers). */
const CLOSE_WITHIN_MS = 1_000;

/**
 * A LockSession on a `pg.Client` of its own — never one of the store's
 * pooled connections: a pool hands a connection to whoever asks next, and a
 * session lock lives as long as its connection, so it would outlive its
 * holder or go with a stranger's broken transaction.
 *
 * The server is told (per session, `tcp_keepalives_*` and `tcp_user_timeout`)
 * to end the session once its peer has been silent for longer than
 * `endAfterSilenceMs`: without it, a server whose client was cut off by the
 * network keeps the session, and its locks, for the operating system's
 * default of two hours. Over a Unix socket the settings do nothing, and need
 * not: a local peer that dies closes its socket.
 */
export class PgLockSession implements LockSession {
  readonly #client: pg.Client;
  readonly #hide: (text: string) => string;
  #lostListener: ((err: Error) => void) | undefined;
  #lost: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(client: pg.Client, hide: (text: string) => string) {
    this.#client = client;
    this.#hide = hide;
    // Both fire when the server ends the connection ('error' first, with its reason, then 'end').
    client.on("error", (err) => this.#onEnd(err));
    client.on("end", () => this.#onEnd(new Error("Connection terminated unexpectedly")));
  }

  /** Connects to the database at `url`; fails as STORAGE_ERROR when it cannot be reached. */
  static async open(url: string, options: LockSessionOptions): Promise<PgLockSession> {
    const forms = passwordForms(url);
    const hide = (text: string) => forms.reduce((t, form) => t.split(form).join("[REDACTED]"), text);
    const client = new pg.Client({
      connectionString: url,
      application_name: "berth lock",
      connectionTimeoutMillis: 10_000,
    });
    const session = new PgLockSession(client, hide);
    try {
      await client.connect();
      const idleS = Math.max(1, Math.ceil(options.endAfterSilenceMs / 1000));
      // Probes from idleS on, one a second, two unanswered end it: silent for idleS + 2 s at least.
      await client.query(
        `SET tcp_keepalives_idle = ${idleS}; SET tcp_keepalives_interval = 1; SET tcp_keepalives_count = 2; SET tcp_user_timeout = ${(idleS + 2) * 1000}`,
      );
    } catch (err) {
      await session.close();
      throw asPgStorageError(err, hide);
    }
    return session;
  }

  async tryLock(key: LockKey): Promise<boolean> {
    const { rows } = await this.#query<{ got: boolean }>(
      "SELECT pg_try_advisory_lock($1::int, $2::int) AS got",
      [key.space, key.id],
    );
    return rows[0]?.got === true;
  }

  async holds(key: LockKey): Promise<boolean> {
    // pg_locks shows a two-integer key's halves as oids (unsigned), with objsubid 2.
    const { rows } = await this.#query<{ held: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
         AND classid = $1::oid AND objid = $2::oid AND objsubid = 2 AND granted) AS held`,
      [key.space >>> 0, key.id >>> 0],
    );
    return rows[0]?.held === true;
  }

  onLost(listener: (err: Error) => void): void {
    this.#lostListener = listener;
    if (this.#lost && !this.#closing) listener(this.#lost);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const client = this.#client;
      if (this.#lost === undefined) {
        // Ending the session frees its locks too, but only once the server has seen the goodbye: unlocking
        // first hands the lock over before close() returns.
        await bounded(client.query("SELECT pg_advisory_unlock_all()"), CLOSE_WITHIN_MS).catch(
          () => undefined,
        );
      }
      await bounded(client.end(), CLOSE_WITHIN_MS).catch(() => client.connection.stream.destroy());
    })();
    return this.#closing;
  }

  async #query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.#client.query<R>(text, values);
    } catch (err) {
      throw asPgStorageError(err, this.#hide);
    }
  }

  #onEnd(err: Error): void {
    if (this.#lost !== undefined) return;
    this.#lost = err;
    if (this.#closing === undefined) this.#lostListener?.(asPgStorageError(err, this.#hide) as Error);
  }
}

/** `promise`, or a rejection after `ms`. */
async function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
