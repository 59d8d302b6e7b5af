import { type Scan, WORK_FLOOR, WORK_PER_UNIT } from "./secret-index/scan.ts";
import { Tier, tierOf } from "./secret-index/tier.ts";

/**
 * Finds every occurrence of a changing set of exact secret values in a text,
 * comparing UTF-16 code units: what a reader sees as one character (a secret
 * and the combining mark after it, a CR and the LF after it) plays no part,
 * so nothing that follows or precedes a secret can hide it. It is a
 * Rabin–Karp index, updated in place: nothing is ever rebuilt.
 *
 * A value of length L is filed under the hash of its first W characters, W
 * the largest power of two ≤ min(L, 32) (its "tier"); finding scans the text
 * once per tier in use with a rolling hash of that window, and checks the
 * values filed under each hash seen. So:
 *   - adding or removing a value costs time in proportion to its length at
 *     most (a hash of ≤ 32 characters, one map entry; where values share
 *     their first 32 characters, one memmove of that bucket's lengths),
 *     whatever else the set holds: a create or a delete costs what it
 *     changes, and no change ever stalls a later line. (Removing the longest
 *     value also looks through the distinct lengths held, to find the next.);
 *   - finding costs, for a text of n characters: one rolling-hash step
 *     per character per tier in use (at most six, two or three in
 *     practice); a prefix-hash table of the text (n steps, made once, only
 *     if a long value is checked); and the checks where a window hash was
 *     seen — at most WORK_PER_UNIT · n + WORK_FLOOR of them in all, each
 *     a constant-time hash comparison or a direct comparison of at most
 *     DIRECT_COMPARE characters, plus length / DIRECT_COMPARE for a value
 *     actually found. Past that budget `collect` gives up. So finding is
 *     linear in the text, whatever the set holds;
 *   - memory is one map or array entry per value and a few bits per bucket; the
 *     values themselves are the strings berth holds anyway.
 *
 * The Aho–Corasick automaton it replaced (modern-ahocorasick, since removed)
 * cost about 0.4 ms per KiB of secrets to build and hundreds of bytes per
 * character held: 13 s and 1.9 GB for ten owners at quota, rebuilt as the set
 * changed. It matched grapheme clusters, so texts and secrets went through a
 * rewriting that made every code unit a cluster of its own; this index reads
 * code units directly and needs none.
 *
 * Values that share their first W characters share a bucket, kept by length
 * in ascending order, so a hash hit costs one lookup per distinct length
 * there that fits in the rest of the text, and nothing for those that do not
 * (a tenant who registers a thousand secrets that all begin with "creating"
 * costs at most eight lookups per "creating" printed, not a thousand). Every
 * hit, every length looked up and every value compared is charged to the
 * budget: a text that makes the index do more than WORK_PER_UNIT of them per
 * character (or hit more often than the caller's budget) is someone probing
 * the matcher: `collect` gives up and the caller hides the whole text. No regular
 * expression is ever made from a secret.
 *
 * The index's parts are in secret-index/: the hash arithmetic
 * (modular-hash.ts, prefix-hashes.ts), a value and its whole hash
 * (entry.ts), a bucket's values by length (by-length.ts), one tier with its
 * bit filter and rolling scan (tier.ts), and the budgeted check of a hit
 * (scan.ts).
 */
export class SecretMatcher {
  /** tiers[t] holds the values filed under their first 2^t characters. */
  readonly #tiers: Array<Tier | undefined> = [];
  /** How many values of each length: `longest` must shrink when the longest goes. */
  readonly #lengths = new Map<number, number>();
  #longest = 0;
  #size = 0;

  constructor(patterns: Iterable<string> = []) {
    for (const pattern of patterns) this.add(pattern);
  }

  /** The longest value, in UTF-16 code units. */
  get longest(): number {
    return this.#longest;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds a value (not yet held; SecretSet counts repeats). Empty values are ignored. */
  add(pattern: string): void {
    if (pattern.length === 0) return;
    const t = tierOf(pattern.length);
    let tier = this.#tiers[t];
    if (tier === undefined) {
      tier = new Tier(2 ** t);
      this.#tiers[t] = tier;
    }
    if (!tier.add(pattern)) return;
    this.#size++;
    this.#lengths.set(pattern.length, (this.#lengths.get(pattern.length) ?? 0) + 1);
    if (pattern.length > this.#longest) this.#longest = pattern.length;
  }

  remove(pattern: string): void {
    if (pattern.length === 0) return;
    const t = tierOf(pattern.length);
    const tier = this.#tiers[t];
    if (tier === undefined || !tier.remove(pattern)) return;
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
   * Appends every occurrence in `text` to `ranges` as start/end pairs of
   * code-unit offsets, overlapping ones included. Returns false as soon as
   * more than `budget` occurrences were listed, or the checks cost more than
   * WORK_PER_UNIT per character: a text made to hit many secrets at every
   * position is hidden whole rather than listed at quadratic cost.
   */
  collect(text: string, ranges: number[], budget: number): boolean {
    if (this.#size === 0) return true;
    const scan: Scan = {
      text,
      ranges,
      budget,
      work: WORK_PER_UNIT * text.length + WORK_FLOOR,
      prefix: undefined,
    };
    for (const tier of this.#tiers) if (tier !== undefined && !tier.collect(scan)) return false;
    return true;
  }
}
