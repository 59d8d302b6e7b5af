import { SecretUrl } from "./secret-url.ts";

/**
 * BERTH_REDIS_URL: the Redis that berth's API servers share to fan Socket.IO
 * pushes out to each other's clients (without it, one server and no Redis).
 * Its password is a secret (SecretUrl): only `reveal()` shows it, to the
 * Redis client.
 *
 * @example
 *   const redis = RedisUrl.parse("redis://:s3cret@redis.internal:6379/0");
 *   redis.redacted;  // "redis://:[REDACTED]@redis.internal:6379/0"
 *   redis.reveal();  // the URL itself, for the client
 */
export class RedisUrl extends SecretUrl {
  /**
   * The URL parsed, or a problem that names what is wrong without quoting the
   * value (which holds the password).
   */
  static parse(value: string): RedisUrl | { problem: string } {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return { problem: "not a URL; expected redis://[USER]:PASSWORD@HOST:PORT[/DB] (rediss:// for TLS)" };
    }
    if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
      return { problem: `expected a redis:// or rediss:// URL, not ${parsed.protocol}//` };
    if (parsed.hostname === "")
      return { problem: "names no host; expected redis://[USER]:PASSWORD@HOST:PORT[/DB]" };
    // The Redis client reads a database number from the path, and nothing else.
    if (parsed.pathname.length > 1 && !/^\/\d+$/.test(parsed.pathname))
      return { problem: "the path must be a database number (redis://HOST:PORT/0), or nothing" };
    // The Redis client decodes both at connect (decodeURIComponent): a malformed escape would be a URIError
    // at start-up, naming neither the variable nor what to change.
    if (!decodes(parsed.username) || !decodes(parsed.password))
      return {
        problem: "the user or password holds a malformed percent-escape; write a literal % as %25",
      };
    return new RedisUrl(value, parsed);
  }
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}
