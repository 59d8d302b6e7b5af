import type { QuotaLimits } from "#protocol";

/** Per-owner quota overrides from the tokens file, e.g. `containers=50 memoryMb=8192`. */
export type QuotaOverrides = Partial<QuotaLimits>;

export type QuotaKey = keyof QuotaOverrides;

/** Whole numbers for counts and sizes; CPUs from Docker's minimum of 0.01. */
const RULES: Record<QuotaKey, { integer: boolean; min: number }> = {
  containers: { integer: true, min: 0 },
  running: { integer: true, min: 0 },
  memoryMb: { integer: true, min: 6 },
  cpus: { integer: false, min: 0.01 },
  codeMb: { integer: true, min: 0 },
};

export const QUOTA_KEYS = Object.keys(RULES) as QuotaKey[];

function isQuotaKey(key: string): key is QuotaKey {
  return Object.hasOwn(RULES, key);
}

/** Parses `key=value` words into overrides; throws an Error whose message names the word's key (never a value it cannot vouch for). */
export function parseQuotaOverrides(words: readonly string[]): QuotaOverrides {
  const out: QuotaOverrides = {};
  for (const word of words) {
    const at = word.indexOf("=");
    const key = at > 0 ? word.slice(0, at) : "";
    if (!isQuotaKey(key)) throw new Error(`expected key=value with a key among ${QUOTA_KEYS.join(", ")}`);
    if (out[key] !== undefined) throw new Error(`'${key}' is given twice`);
    const text = word.slice(at + 1);
    const value = Number(text);
    const rule = RULES[key];
    if (
      text === "" ||
      !Number.isFinite(value) ||
      (rule.integer && !Number.isInteger(value)) ||
      value < rule.min
    ) {
      throw new Error(`'${key}' must be ${rule.integer ? "a whole number" : "a number"} ≥ ${rule.min}`);
    }
    out[key] = value;
  }
  return out;
}
