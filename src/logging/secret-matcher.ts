import { randomInt } from "node:crypto";
import { inView } from "./code-unit-view.ts";

/**
 * Finds every occurrence of a changing set of exact secret values in a text,
 * matching in the code-unit view (see code-unit-view.ts). It is a Rabin–Karp
 * index, updated in place: nothing is ever rebuilt.
 *
 * A value of length L is filed under the hash of its first W characters, W
 * the largest power of two ≤ L (its "tier"); finding scans the text once per
 * tier in use with a rolling hash of that window, and checks the values filed
 * under each hash seen. So:
 *   - adding or removing a value costs time in proportion to its length (one
 *     hash, one map entry), whatever the set holds: a create or a delete
 *     costs what it changes, and no change ever stalls a later line;
 *   - finding costs time linear in the text per tier in use (at most one tier
 *     per power of two up to the longest value: 2–4 in practice), plus the
 *     values checked where a hash matched;
 *   - memory is one map entry per value; the values themselves are the
 *     strings berth holds anyway.
 *
 * The former Aho–Corasick automaton (modern-ahocorasick) cost about 0.4 ms per
 * KiB of secrets to build and hundreds of bytes per character held: 13 s and
 * 1.9 GB for ten owners at quota, rebuilt as the set changed.
 *
 * Values that share their first W characters share a bucket, kept by length,
 * so a hash hit costs one lookup per distinct length there (a tenant who
 * registers a thousand secrets that all begin with "creating" costs at most
 * eight lookups per "creating" printed, not a thousand). A text that makes
 * the index check more than a few dozen characters per character of text (or
 * hit more often than the caller's budget) is someone probing the matcher:
 * `collect` gives up and the caller hides the whole text. No regular
 * expression is ever made from a secret.
 */
export class SecretMatcher {
  /** tiers[t] holds the values whose view length is in [2^t, 2^(t+1)). */
  readonly #tiers: Array<Tier | undefined> = [];
  /** How many values of each length: `longest` must shrink when the longest goes. */
  readonly #lengths = new Map<number, number>();
  #longest = 0;
  #size = 0;

  constructor(patterns: Iterable<string> = []) {
    for (const pattern of patterns) this.add(pattern);
  }

  /** The longest value, in original code units (an upper bound: view units). */
  get longest(): number {
    return this.#longest;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds a value (not yet held; SecretSet counts repeats). Empty values are ignored. */
  add(pattern: string): void {
    if (pattern.length === 0) return;
    const view = inView(pattern);
    const t = tierOf(view.length);
    let tier = this.#tiers[t];
    if (tier === undefined) {
      tier = new Tier(2 ** t);
      this.#tiers[t] = tier;
    }
    if (!tier.add(view)) return;
    this.#size++;
    this.#lengths.set(pattern.length, (this.#lengths.get(pattern.length) ?? 0) + 1);
    if (pattern.length > this.#longest) this.#longest = pattern.length;
  }

  remove(pattern: string): void {
    if (pattern.length === 0) return;
    const view = inView(pattern);
    const t = tierOf(view.length);
    const tier = this.#tiers[t];
    if (tier === undefined || !tier.remove(view)) return;
    if (tier.size === 0) this.#tiers[t] = undefined;
    this.#size--;
    const left = (this.#lengths.get(pattern.length) ?? 1) - 1;
    if (left > 0) {
      this.#lengths.set(pattern.length, left);
    } else {
      this.#lengths.delete(pattern.length);
      if (pattern.length === this.#longest) {
        this.#longest = 0;
        for (const length of this.#lengths.keys()) if (length > this.#longest) this.#longest = length;
      }
    }
  }

  /**
   * Appends every occurrence in `view` (a code-unit view's text) to `ranges`
   * as start/end pairs in view offsets, overlapping ones included. Returns
   * false as soon as more than `budget` occurrences were listed, or the
   * checks cost more than WORK_PER_UNIT per character: a text made to hit many
   * secrets at every position is hidden whole rather than listed at quadratic
   * cost.
   */
  collect(view: string, ranges: number[], budget: number): boolean {
    if (this.#size === 0) return true;
    const work = { left: WORK_PER_UNIT * view.length + WORK_FLOOR };
    for (const tier of this.#tiers) {
      if (tier !== undefined && !tier.collect(view, ranges, budget, work)) return false;
    }
    return true;
  }
}

/** Characters a check may compare per character of text before collect gives up; legitimate text needs about one per tier. */
const WORK_PER_UNIT = 64;
/** …plus this many, so that a short text may still hold a whole 8 KiB secret several times over. */
const WORK_FLOOR = 128 * 1024;

/**
 * The modulus: the largest prime below 2^30, so that every hash is a small
 * integer (a V8 Smi: fast map keys) and `hash * BASE + unit` stays below 2^53
 * (exact in a double).
 */
const MODULUS = 1_073_741_789;
/** Random per process, so a tenant cannot aim text at another value's hash. */
const BASE = randomInt(1 << 16, 1 << 22);

function tierOf(length: number): number {
  return 31 - Math.clz32(length);
}

function hashOf(text: string, from: number, window: number): number {
  let h = 0;
  for (let i = from; i < from + window; i++) h = (h * BASE + text.charCodeAt(i)) % MODULUS;
  return h;
}

/** One value, or (rarely: values sharing their first `window` characters, or a hash collision) values by length. */
type Bucket = string | Map<number, Set<string>>;

/** The values whose view length is in [window, 2 · window). */
class Tier {
  readonly #window: number;
  /** BASE^(window − 1) mod MODULUS: the weight of the character that leaves the window. */
  readonly #top: number;
  readonly #buckets = new Map<number, Bucket>();
  size = 0;

  constructor(window: number) {
    this.#window = window;
    let top = 1;
    for (let i = 1; i < window; i++) top = (top * BASE) % MODULUS;
    this.#top = top;
  }

  add(value: string): boolean {
    const h = hashOf(value, 0, this.#window);
    const bucket = this.#buckets.get(h);
    if (bucket === undefined) {
      this.#buckets.set(h, value);
    } else if (typeof bucket === "string") {
      if (bucket === value) return false;
      const byLength = new Map<number, Set<string>>([[bucket.length, new Set([bucket])]]);
      addByLength(byLength, value);
      this.#buckets.set(h, byLength);
    } else if (!addByLength(bucket, value)) {
      return false;
    }
    this.size++;
    return true;
  }

  remove(value: string): boolean {
    const h = hashOf(value, 0, this.#window);
    const bucket = this.#buckets.get(h);
    if (bucket === undefined) return false;
    if (typeof bucket === "string") {
      if (bucket !== value) return false;
      this.#buckets.delete(h);
    } else {
      const same = bucket.get(value.length);
      if (!same?.delete(value)) return false;
      if (same.size === 0) bucket.delete(value.length);
      const [first] = bucket.values();
      if (first === undefined) this.#buckets.delete(h);
      else if (bucket.size === 1 && first.size === 1) this.#buckets.set(h, [...first][0] as string);
    }
    this.size--;
    return true;
  }

  collect(text: string, ranges: number[], budget: number, work: { left: number }): boolean {
    const window = this.#window;
    const n = text.length;
    if (n < window) return true;
    const buckets = this.#buckets;
    let h = hashOf(text, 0, window);
    for (let i = 0; ; i++) {
      const bucket = buckets.get(h);
      if (bucket !== undefined) {
        if (typeof bucket === "string") {
          work.left -= bucket.length;
          if (work.left < 0) return false;
          if (text.startsWith(bucket, i)) {
            if (ranges.length >= budget * 2) return false;
            ranges.push(i, i + bucket.length);
          }
        } else {
          for (const [length, values] of bucket) {
            if (i + length > n) continue;
            work.left -= length;
            if (work.left < 0) return false;
            if (values.has(text.slice(i, i + length))) {
              if (ranges.length >= budget * 2) return false;
              ranges.push(i, i + length);
            }
          }
        }
      }
      if (i + window >= n) return true;
      h = (h + MODULUS - ((text.charCodeAt(i) * this.#top) % MODULUS)) % MODULUS;
      h = (h * BASE + text.charCodeAt(i + window)) % MODULUS;
    }
  }
}

function addByLength(byLength: Map<number, Set<string>>, value: string): boolean {
  let same = byLength.get(value.length);
  if (same === undefined) {
    same = new Set();
    byLength.set(value.length, same);
  }
  if (same.has(value)) return false;
  same.add(value);
  return true;
}
