import { type Bucket, ByLength, fileByLength, isEntry, unfileByLength } from "./by-length.ts";
import { entryOf } from "./entry.ts";
import { BASE, hashOf, MODULUS, mod } from "./modular-hash.ts";
import { check, type Scan } from "./scan.ts";

/**
 * The widest window: longer values are filed under their first 32 characters
 * (and told apart by length, then by value), so adding one costs a hash of at
 * most 32 characters and finding costs at most six passes (windows 1, 2, 4,
 * 8, 16, 32). Distinct secrets rarely share 32 characters (a PEM header and
 * the first base64 characters do: a bucket of a few).
 */
export const MAX_TIER = 5;

export function tierOf(length: number): number {
  return Math.min(MAX_TIER, 31 - Math.clz32(length));
}

/** The values filed under their first `window` characters: length in [window, 2 · window), or ≥ 32 for the last tier. */
export class Tier {
  readonly #window: number;
  /** BASE^(window − 1) mod MODULUS: the weight of the character that leaves the window. */
  readonly #top: number;
  /** MODULUS − c · top mod MODULUS for each ASCII c (almost every code unit of a log line): one `mod` per step instead of three. */
  readonly #leaving = new Float64Array(128);
  readonly #buckets = new Map<number, Bucket>();
  /**
   * One bit per hash modulo its length, set for every bucket: most positions
   * of a text are turned away by a bit test instead of a map lookup. Grown
   * fourfold (and rebuilt) when the buckets reach a quarter of its bits, and
   * rebuilt when as many buckets went as there are left — amortised, each
   * bucket costs a few bit sets.
   */
  #filter = new Uint8Array(FILTER_MIN_BITS / 8);
  #mask = FILTER_MIN_BITS - 1;
  #goneSinceFilter = 0;
  size = 0;

  constructor(window: number) {
    this.#window = window;
    let top = 1;
    for (let i = 1; i < window; i++) top = mod(top * BASE);
    this.#top = top;
    for (let c = 0; c < 128; c++) this.#leaving[c] = MODULUS - mod(c * top);
  }

  add(value: string): boolean {
    const h = hashOf(value, 0, this.#window);
    const bucket = this.#buckets.get(h);
    const entry = entryOf(value);
    if (bucket === undefined) {
      this.#buckets.set(h, entry);
      this.#mark(h);
    } else if (isEntry(bucket)) {
      if (bucket.value === value) return false;
      const byLength = new ByLength();
      byLength.set(bucket.value.length, bucket);
      fileByLength(byLength, entry);
      this.#buckets.set(h, byLength);
    } else if (!fileByLength(bucket, entry)) {
      return false;
    }
    this.size++;
    return true;
  }

  remove(value: string): boolean {
    const h = hashOf(value, 0, this.#window);
    const bucket = this.#buckets.get(h);
    if (bucket === undefined) return false;
    if (isEntry(bucket)) {
      if (bucket.value !== value) return false;
      this.#drop(h);
    } else {
      if (!unfileByLength(bucket, value)) return false;
      const only = bucket.groups[0];
      if (only === undefined) this.#drop(h);
      else if (bucket.size === 1 && isEntry(only)) this.#buckets.set(h, only);
    }
    this.size--;
    return true;
  }

  #mark(h: number): void {
    if (this.#buckets.size * 4 > this.#mask + 1) this.#rebuildFilter();
    else setBit(this.#filter, this.#mask, h);
  }

  #drop(h: number): void {
    this.#buckets.delete(h);
    if (++this.#goneSinceFilter > this.#buckets.size && this.#mask + 1 > FILTER_MIN_BITS)
      this.#rebuildFilter();
  }

  #rebuildFilter(): void {
    let bits = FILTER_MIN_BITS;
    while (this.#buckets.size * 4 > bits) bits *= 4;
    this.#filter = new Uint8Array(bits / 8);
    this.#mask = bits - 1;
    this.#goneSinceFilter = 0;
    for (const h of this.#buckets.keys()) setBit(this.#filter, this.#mask, h);
  }

  collect(scan: Scan): boolean {
    const window = this.#window;
    const text = scan.text;
    const n = text.length;
    if (n < window) return true;
    const buckets = this.#buckets;
    const filter = this.#filter;
    const mask = this.#mask;
    let h = hashOf(text, 0, window);
    for (let i = 0; ; i++) {
      if (((filter[(h & mask) >>> 3] as number) >>> (h & 7)) & 1) {
        const bucket = buckets.get(h);
        if (bucket !== undefined && !check(scan, i, bucket)) return false;
      }
      if (i + window >= n) return true;
      const out = text.charCodeAt(i);
      const leaving = out < 128 ? (this.#leaving[out] as number) : MODULUS - mod(out * this.#top);
      // (h + leaving) < 2^31 and BASE < 2^22: the product stays exact.
      h = mod((h + leaving) * BASE + text.charCodeAt(i + window));
    }
  }
}

function setBit(filter: Uint8Array, mask: number, h: number): void {
  const at = (h & mask) >>> 3;
  filter[at] = (filter[at] as number) | (1 << (h & 7));
}

/** The smallest filter: 128 bytes (an owner with a few secrets), enough for 256 buckets before it grows. */
const FILTER_MIN_BITS = 1 << 10;
