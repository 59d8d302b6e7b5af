import { inspect } from "node:util";

/**
 * BERTH_DATABASE_URL: the PostgreSQL database berth keeps its store in
 * (without it, SQLite in the data directory). Its password is a secret: the
 * URL is only handed out by `reveal()`, to the one place that connects, and
 * everything else that could print it — JSON, `util.inspect` (so pino and
 * console), string conversion — gets `redacted`, the URL with its password
 * blanked.
 *
 * @example
 *   const db = DatabaseUrl.parse("postgres://berth:s3cret@db.internal:5432/berth");
 *   db.redacted;          // "postgres://berth:[REDACTED]@db.internal:5432/berth"
 *   JSON.stringify({ db }); // '{"db":"postgres://berth:[REDACTED]@db.internal:5432/berth"}'
 *   db.reveal();          // the URL itself, for the pool
 */
export class DatabaseUrl {
  readonly #url: string;
  readonly #passwords: readonly string[];
  readonly redacted: string;

  private constructor(url: string, parsed: URL) {
    this.#url = url;
    const raw = parsed.password;
    const decoded = raw ? safeDecode(raw) : "";
    this.#passwords = [...new Set([raw, decoded].filter((p) => p.length > 0))];
    if (raw) parsed.password = "[REDACTED]";
    this.redacted = raw ? parsed.href.replace("%5BREDACTED%5D", "[REDACTED]") : url;
  }

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

  /** The URL with its password, for the connection pool and nothing else. */
  reveal(): string {
    return this.#url;
  }

  /** The password as written and as the server receives it, for the redactor of every log line. */
  secrets(): readonly string[] {
    return this.#passwords;
  }

  toString(): string {
    return this.redacted;
  }

  toJSON(): string {
    return this.redacted;
  }

  [inspect.custom](): string {
    return `DatabaseUrl(${this.redacted})`;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
