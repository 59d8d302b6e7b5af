import type { SecretSet } from "./secret-set.ts";

/**
 * The chokepoint through which everything berth shows — system log lines,
 * error details, activity entries, container output — passes on its way out.
 * It removes three kinds of secret:
 *   - values under keys that look secret (`password`, `apiKey`, `AUTH_TOKEN`, …), at any depth;
 *   - exact values berth knows to be secret (tokens, `secretEnv` values, `env`
 *     values under secret-looking keys), wherever they appear in a string —
 *     but only those of the sets this redactor was given: the SecretRegistry
 *     hands each owner a redactor over that owner's own secrets and token, so
 *     that what an owner sees never depends on another owner's secrets;
 *   - strings that look like secrets anywhere (bearer tokens, JWTs, private
 *     key blocks, cloud access keys, `user:password@` in URLs).
 *
 * A redactor never throws: if anything goes wrong, the whole string (or
 * value) is replaced by REDACTED rather than shown.
 *
 * @example
 *   const redactor = registry.forOwner("alice");
 *   redactor.redact({ msg: "login with hunter2!", password: "x" });
 *   // → { msg: "login with [REDACTED]", password: "[REDACTED]" } when alice registered "hunter2!"
 */
export const REDACTED = "[REDACTED]";

/** Key names that hold secrets, matched case-insensitively against the whole key. */
const SECRET_KEY =
  /(pass(word|wd|phrase)?|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|(^|[-_])key$|^key|auth|credential|cookie|session|signature|dsn)/i;

/**
 * Secret-looking values, wherever they appear. Order matters: whole PEM blocks
 * first. The JWT and URL rules start only where a run of their characters
 * starts (the look-behinds): starting inside a run made a failed match rescan
 * the rest of it, so a 16 KiB line of `eyJ-eyJ-…` cost 80 ms.
 */
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, REDACTED],
  [/(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, REDACTED],
  [/\b(bearer|basic|token)(\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi, `$1$2${REDACTED}`],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\b(gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{20,})/g, REDACTED],
  [/((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+):[^\s@/]+@/gi, `$1:${REDACTED}@`],
];

const MAX_DEPTH = 12;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export interface RedactOptions {
  /**
   * The text was cut before its real end (output dropped past a byte cap):
   * its last characters may be the beginning of a secret, so they are hidden
   * too — as many as the longest secret has, less one.
   */
  openEnd?: boolean;
}

export class Redactor {
  readonly #sets: () => readonly SecretSet[];

  /** `sets` is asked at every call, so the redactor always sees the sets as they are now. */
  constructor(sets: () => readonly SecretSet[] = () => []) {
    this.#sets = sets;
  }

  redactString(text: string, options: RedactOptions = {}): string {
    try {
      let out = this.#hideSecrets(text, options.openEnd === true);
      for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
      return out;
    } catch {
      return REDACTED;
    }
  }

  /** Returns a redacted deep copy; the input is never modified. */
  redact<T>(value: T): T {
    try {
      return this.#walk(value, 0, new WeakSet()) as T;
    } catch {
      // A throwing getter, a revoked proxy, an invalid date: show nothing of it.
      return REDACTED as T;
    }
  }

  #hideSecrets(text: string, openEnd: boolean): string {
    if (text.length === 0) return text;
    const matchers = this.#sets().flatMap((set) => set.matchers());
    if (matchers.length === 0) return text;
    // The matchers compare UTF-16 code units of the text itself, so whatever
    // follows a secret (a combining mark, a joiner, a variation selector, the
    // \n after a secret ending in \r) never hides it, and the offsets they
    // list are offsets in `text`.
    const found: number[] = [];
    // Overlapping hits are listed (so that two overlapping secrets are both
    // hidden whole); a text that hits far more often than it has characters is
    // someone probing the matcher, and is hidden whole.
    const budget = text.length * 4 + 64;
    for (const matcher of matchers) if (!matcher.collect(text, found, budget)) return REDACTED;
    const ranges: Array<[number, number]> = [];
    for (let i = 0; i < found.length; i += 2) ranges.push([found[i] as number, found[i + 1] as number]);
    if (openEnd) {
      const longest = matchers.reduce((max, m) => Math.max(max, m.longest), 0);
      if (longest > 1) ranges.push([Math.max(0, text.length - (longest - 1)), text.length]);
    }
    if (ranges.length === 0) return text;
    ranges.sort((a, b) => a[0] - b[0]);
    let out = "";
    let shown = 0;
    let [start, end] = ranges[0] as [number, number];
    for (const [s, e] of ranges) {
      if (s <= end) {
        end = Math.max(end, e);
        continue;
      }
      out += text.slice(shown, start) + REDACTED;
      shown = end;
      start = s;
      end = e;
    }
    return out + text.slice(shown, start) + REDACTED + text.slice(end);
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
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
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
