/**
 * The one chokepoint through which everything berth shows — system log lines,
 * error details, activity entries, container output — passes on its way out.
 * It removes three kinds of secret:
 *   - values under keys that look secret (`password`, `apiKey`, `AUTH_TOKEN`, …), at any depth;
 *   - exact values berth knows to be secret (tokens, every `secretEnv` value,
 *     `env` values under secret-looking keys), wherever they appear in a string;
 *   - strings that look like secrets anywhere (bearer tokens, JWTs, private
 *     key blocks, cloud access keys, `user:password@` in URLs).
 *
 * @example
 *   const r = new Redactor();
 *   r.addSecret("hunter2!");
 *   r.redact({ msg: "login with hunter2!", password: "x" });
 *   // → { msg: "login with [REDACTED]", password: "[REDACTED]" }
 */
export const REDACTED = "[REDACTED]";

/** Key names that hold secrets, matched case-insensitively against the whole key. */
const SECRET_KEY =
  /(pass(word|wd|phrase)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|(^|[-_])key$|^key|auth|credential|cookie|session|signature|dsn)/i;

/** Secret-looking values, wherever they appear. Order matters: whole PEM blocks first. */
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, REDACTED],
  [/\b(bearer|basic|token)(\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi, `$1$2${REDACTED}`],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\b(gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})/g, REDACTED],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, `$1:${REDACTED}@`],
];

/** Shorter values would turn ordinary words into "[REDACTED]"; such secrets are refused by validation instead. */
export const MIN_SECRET_LENGTH = 4;

const MAX_DEPTH = 12;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export class Redactor {
  readonly #secrets = new Map<string, number>();
  #matcher: RegExp | undefined;

  /** Registers an exact value to hide; the same value may be registered by several owners (counted). */
  addSecret(value: string): void {
    if (value.length < MIN_SECRET_LENGTH) return;
    this.#secrets.set(value, (this.#secrets.get(value) ?? 0) + 1);
    this.#matcher = undefined;
  }

  removeSecret(value: string): void {
    const count = this.#secrets.get(value);
    if (count === undefined) return;
    if (count <= 1) this.#secrets.delete(value);
    else this.#secrets.set(value, count - 1);
    this.#matcher = undefined;
  }

  /** Registers the secret parts of a container's environment. */
  addEnvironment(
    env: Record<string, string> | undefined,
    secretEnv: Record<string, string> | undefined,
  ): void {
    for (const value of Object.values(secretEnv ?? {})) this.addSecret(value);
    for (const [key, value] of Object.entries(env ?? {})) if (isSecretKey(key)) this.addSecret(value);
  }

  removeEnvironment(
    env: Record<string, string> | undefined,
    secretEnv: Record<string, string> | undefined,
  ): void {
    for (const value of Object.values(secretEnv ?? {})) this.removeSecret(value);
    for (const [key, value] of Object.entries(env ?? {})) if (isSecretKey(key)) this.removeSecret(value);
  }

  /** The longest registered secret: a streaming reader keeps this many bytes back to catch a split secret. */
  get longestSecret(): number {
    let longest = 0;
    for (const s of this.#secrets.keys()) longest = Math.max(longest, s.length);
    return longest;
  }

  redactString(text: string): string {
    let out = text;
    if (this.#secrets.size > 0) {
      this.#matcher ??= new RegExp(
        [...this.#secrets.keys()]
          .sort((a, b) => b.length - a.length)
          .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
          .join("|"),
        "g",
      );
      out = out.replace(this.#matcher, REDACTED);
    }
    for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }

  /** Returns a redacted deep copy; the input is never modified. */
  redact<T>(value: T): T {
    return this.#walk(value, 0, new WeakSet()) as T;
  }

  #walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof value === "string") return this.redactString(value);
    if (value === null || typeof value !== "object") return value;
    if (seen.has(value)) return "[Circular]";
    if (depth >= MAX_DEPTH) return "[Truncated]";
    seen.add(value);
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[binary ${value.byteLength} bytes]`;
    if (value instanceof Error) return this.#walkError(value, depth, seen);
    if (Array.isArray(value)) return value.map((v) => this.#walk(v, depth + 1, seen));
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] =
        isSecretKey(key) && v !== null && v !== undefined && typeof v !== "boolean"
          ? REDACTED
          : this.#walk(v, depth + 1, seen);
    }
    return out;
  }

  #walkError(err: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
    const out: Record<string, unknown> = {
      type: err.name,
      message: this.redactString(err.message),
      stack: err.stack === undefined ? undefined : this.redactString(err.stack),
    };
    for (const [key, v] of Object.entries(err)) {
      if (key === "cause") continue;
      out[key] = isSecretKey(key) ? REDACTED : this.#walk(v, depth + 1, seen);
    }
    if (err.cause !== undefined) out.cause = this.#walk(err.cause, depth + 1, seen);
    return out;
  }
}
