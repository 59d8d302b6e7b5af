import { BASE, mod } from "./modular-hash.ts";

/**
 * A value with its whole hash and BASE^length, so that a candidate is checked
 * in constant time. Worked out when first needed (hash −1 until then): most
 * values sit alone in their bucket and short ones are compared directly.
 */
export interface Entry {
  readonly value: string;
  hash: number;
  power: number;
}

export function entryOf(value: string): Entry {
  return { value, hash: -1, power: 1 };
}

export function hashed(entry: Entry): Entry {
  if (entry.hash >= 0) return entry;
  let hash = 0;
  let power = 1;
  for (let i = 0; i < entry.value.length; i++) {
    hash = mod(hash * BASE + entry.value.charCodeAt(i));
    power = mod(power * BASE);
  }
  entry.hash = hash;
  entry.power = power;
  return entry;
}
