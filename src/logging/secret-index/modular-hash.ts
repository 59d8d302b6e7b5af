import { randomInt } from "node:crypto";

/*
 * The arithmetic of SecretMatcher's rolling hashes: polynomial hashes of
 * UTF-16 code units modulo a prime, in doubles that stay exact.
 */

/**
 * The modulus: the largest prime below 2^30, so that every hash is a small
 * integer (a V8 Smi: fast map keys) and `hash * BASE + unit` stays below 2^53
 * (exact in a double).
 */
export const MODULUS = 1_073_741_789;
/** Random per process, so a tenant cannot aim text at another value's hash. */
export const BASE = randomInt(1 << 16, 1 << 22);

/**
 * x mod MODULUS for 0 ≤ x < 2^53. A floored division is several times faster
 * than `%` on numbers past 2^31 (a call to fmod); its rounding is off by at
 * most one multiple, which the two corrections take back.
 */
export function mod(x: number): number {
  const r = x - Math.floor(x / MODULUS) * MODULUS;
  return r < 0 ? r + MODULUS : r >= MODULUS ? r - MODULUS : r;
}

export function hashOf(text: string, from: number, window: number): number {
  let h = 0;
  for (let i = from; i < from + window; i++) h = mod(h * BASE + text.charCodeAt(i));
  return h;
}

/** a · b mod MODULUS for a, b < MODULUS, exactly: split a so that no product reaches 2^53. */
export function mulMod(a: number, b: number): number {
  return mod(mod((a >>> 15) * b) * 32768 + (a & 32767) * b);
}
