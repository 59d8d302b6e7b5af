import { inspect } from "node:util";

/**
 * A URL whose password is a secret (BERTH_DATABASE_URL, BERTH_REDIS_URL): the
 * URL is only handed out by `reveal()`, to the one place that connects, and
 * everything else that could print it — JSON, `util.inspect` (so pino and
 * console), string conversion — gets `redacted`, the URL with its password
 * blanked. Each kind of URL parses its own (DatabaseUrl, RedisUrl).
 */
export class SecretUrl {
  readonly #url: string;
  readonly #passwords: readonly string[];
  readonly redacted: string;

  protected constructor(url: string, parsed: URL) {
    this.#url = url;
    const raw = parsed.password;
    const decoded = raw ? safeDecode(raw) : "";
    this.#passwords = [...new Set([raw, decoded].filter((p) => p.length > 0))];
    if (raw) parsed.password = "[REDACTED]";
    this.redacted = raw ? parsed.href.replace("%5BREDACTED%5D", "[REDACTED]") : url;
  }

  /** The URL with its password, for the client that connects and nothing else. */
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
    return `${this.constructor.name}(${this.redacted})`;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
