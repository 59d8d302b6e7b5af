import { SecretUrl } from "./secret-url.ts";

/**
 * BERTH_DATABASE_URL: the PostgreSQL database berth keeps its store in
 * (without it, SQLite in the data directory). Its password is a secret
 * (SecretUrl): only `reveal()` shows it, to the pool.
 *
 * @example
 *   const db = DatabaseUrl.parse("postgres://berth:s3cret@db.internal:5432/berth");
 *   db.redacted;          // "postgres://berth:[REDACTED]@db.internal:5432/berth"
 *   JSON.stringify({ db }); // '{"db":"postgres://berth:[REDACTED]@db.internal:5432/berth"}'
 *   db.reveal();          // the URL itself, for the pool
 */
export class DatabaseUrl extends SecretUrl {
  /**
   * The URL parsed, or a problem that names what is wrong without quoting the
   * value (which holds the password).
   */
  static parse(value: string): DatabaseUrl | { problem: string } {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return { problem: "not a URL; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE" };
    }
    if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:")
      return { problem: `expected a postgres:// or postgresql:// URL, not ${parsed.protocol}//` };
    if (parsed.pathname.length <= 1 || parsed.pathname.slice(1).includes("/"))
      return { problem: "names no database; expected postgres://USER:PASSWORD@HOST:PORT/DATABASE" };
    return new DatabaseUrl(value, parsed);
  }
}
