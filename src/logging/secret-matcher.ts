import { randomInt } from "node:crypto";

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

/**
 * Steps of checking allowed per character of text before collect gives up:
 * a window hash that hit a bucket costs one, each length that fits and each
 * value compared one more (a real hit also costs its length / 64, for the
 * comparison that confirms it). Ordinary text hits a bucket only here and
 * there — far less than once per character; a run of one letter against a
 * secret made of it costs two or three per character per tier.
 */
const WORK_PER_UNIT = 16;
/** …plus this many, for short texts. */
const WORK_FLOOR = 1024;

/**
 * The modulus: the largest prime below 2^30, so that every hash is a small
 * integer (a V8 Smi: fast map keys) and `hash * BASE + unit` stays below 2^53
 * (exact in a double).
 */
const MODULUS = 1_073_741_789;
/** Random per process, so a tenant cannot aim text at another value's hash. */
const BASE = randomInt(1 << 16, 1 << 22);

/**
 * The widest window: longer values are filed under their first 32 characters
 * (and told apart by length, then by value), so adding one costs a hash of at
 * most 32 characters and finding costs at most six passes (windows 1, 2, 4,
 * 8, 16, 32). Distinct secrets rarely share 32 characters (a PEM header and
 * the first base64 characters do: a bucket of a few).
 */
const MAX_TIER = 5;

function tierOf(length: number): number {
  return Math.min(MAX_TIER, 31 - Math.clz32(length));
}

/**
 * x mod MODULUS for 0 ≤ x < 2^53. A floored division is several times faster
 * than `%` on numbers past 2^31 (a call to fmod); its rounding is off by at
 * most one multiple, which the two corrections take back.
 */
function mod(x: number): number {
  const r = x - Math.floor(x / MODULUS) * MODULUS;
  return r < 0 ? r + MODULUS : r >= MODULUS ? r - MODULUS : r;
}

function hashOf(text: string, from: number, window: number): number {
  let h = 0;
  for (let i = from; i < from + window; i++) h = mod(h * BASE + text.charCodeAt(i));
  return h;
}

/** a · b mod MODULUS for a, b < MODULUS, exactly: split a so that no product reaches 2^53. */
function mulMod(a: number, b: number): number {
  return mod(mod((a >>> 15) * b) * 32768 + (a & 32767) * b);
}

/**
 * A value with its whole hash and BASE^length, so that a candidate is checked
 * in constant time. Worked out when first needed (hash −1 until then): most
 * values sit alone in their bucket and short ones are compared directly.
 */
interface Entry {
  readonly value: string;
  hash: number;
  power: number;
}

function entryOf(value: string): Entry {
  return { value, hash: -1, power: 1 };
}

function hashed(entry: Entry): Entry {
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

/**
 * The hashes of every prefix of a text, made once per text and only when a
 * window hash matched: the hash of any substring is then a constant-time
 * computation, so a candidate is checked in constant time and compared
 * character by character only when it is (almost surely) there.
 */
class PrefixHashes {
  readonly #prefix: Int32Array;

  constructor(text: string) {
    this.#prefix = new Int32Array(text.length + 1);
    let h = 0;
    for (let i = 0; i < text.length; i++) {
      h = mod(h * BASE + text.charCodeAt(i));
      this.#prefix[i + 1] = h;
    }
  }

  /** The hash of text[from, from + length), given power = BASE^length. */
  of(from: number, length: number, power: number): number {
    const end = this.#prefix[from + length] as number;
    return mod(end + MODULUS - mulMod(this.#prefix[from] as number, power));
  }
}

/**
 * Where the values filed under one window hash are: one entry (almost always),
 * or — values sharing their first `window` characters, or a window collision —
 * groups by length. A group is one entry, or (values of one length sharing
 * their first characters: PKCS#8 keys of one size) entries by whole hash, so
 * a hit costs one lookup per length however many values share a prefix.
 */
type Group = Entry | Map<number, Entry[]>;
type Bucket = Entry | ByLength;

/**
 * The groups of one bucket, in ascending order of length: a check walks them
 * from the shortest and stops at the first that runs past the end of the
 * text, so lengths that cannot fit cost nothing at all — not even a step of
 * the walk. (Walked in any other order, each position near the end of a text
 * would step over every length too long for it: a tenant's 600 secrets of
 * lengths 1001–1600 sharing their first 32 characters made each line of 1000
 * "a" cost 580,000 steps that no budget saw.) Adding or removing a length
 * moves the lengths after it: a bucket holds one entry per length, a few
 * thousand at most for values accepted today (MAX_SECRET_VALUE_LENGTH),
 * moved by one memmove.
 */
class ByLength {
  readonly lengths: number[] = [];
  readonly groups: Group[] = [];

  get size(): number {
    return this.lengths.length;
  }

  get(length: number): Group | undefined {
    const at = this.#find(length);
    return this.lengths[at] === length ? this.groups[at] : undefined;
  }

  set(length: number, group: Group): void {
    const at = this.#find(length);
    if (this.lengths[at] === length) {
      this.groups[at] = group;
    } else {
      this.lengths.splice(at, 0, length);
      this.groups.splice(at, 0, group);
    }
  }

  delete(length: number): void {
    const at = this.#find(length);
    if (this.lengths[at] !== length) return;
    this.lengths.splice(at, 1);
    this.groups.splice(at, 1);
  }

  /** The first index whose length is ≥ `length` (binary search). */
  #find(length: number): number {
    let low = 0;
    let high = this.lengths.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.lengths[mid] as number) < length) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/** The state of one collect call, shared by the tiers. */
interface Scan {
  text: string;
  ranges: number[];
  budget: number;
  /** Checks left before the text counts as probing. */
  work: number;
  prefix: PrefixHashes | undefined;
}

/** The values filed under their first `window` characters: length in [window, 2 · window), or ≥ 32 for the last tier. */
class Tier {
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

function isEntry(item: Entry | ByLength | Map<number, unknown>): item is Entry {
  return !(item instanceof Map || item instanceof ByLength);
}

function fileByLength(byLength: ByLength, entry: Entry): boolean {
  const length = entry.value.length;
  const group = byLength.get(length);
  if (group === undefined) {
    byLength.set(length, entry);
    return true;
  }
  if (isEntry(group)) {
    if (group.value === entry.value) return false;
    const byHash = new Map<number, Entry[]>();
    fileByHash(byHash, group);
    fileByHash(byHash, entry);
    byLength.set(length, byHash);
    return true;
  }
  return fileByHash(group, entry);
}

function fileByHash(byHash: Map<number, Entry[]>, unhashed: Entry): boolean {
  const entry = hashed(unhashed);
  const same = byHash.get(entry.hash);
  if (same === undefined) {
    byHash.set(entry.hash, [entry]);
    return true;
  }
  if (same.some((e) => e.value === entry.value)) return false;
  same.push(entry);
  return true;
}

function unfileByLength(byLength: ByLength, value: string): boolean {
  const group = byLength.get(value.length);
  if (group === undefined) return false;
  if (isEntry(group)) {
    if (group.value !== value) return false;
    byLength.delete(value.length);
    return true;
  }
  const { hash } = hashed(entryOf(value));
  const same = group.get(hash);
  const at = same?.findIndex((e) => e.value === value) ?? -1;
  if (same === undefined || at < 0) return false;
  same.splice(at, 1);
  if (same.length === 0) group.delete(hash);
  const [only] = group.values();
  if (only === undefined) byLength.delete(value.length);
  else if (group.size === 1 && only.length === 1) byLength.set(value.length, only[0] as Entry);
  return true;
}

/**
 * Checks the values filed under the window hash seen at `at`; false when the
 * text is probing. Every step is charged to the budget: the hit itself (so
 * the budget bounds the number of hits, whatever they lead to), each length
 * that fits, each value compared. Lengths that do not fit cost nothing: they
 * come after the last one that does, and the walk stops there.
 */
function check(scan: Scan, at: number, bucket: Bucket): boolean {
  scan.work -= 1;
  if (scan.work < 0) return false;
  const room = scan.text.length - at;
  if (isEntry(bucket)) return bucket.value.length > room || checkEntry(scan, at, bucket);
  const { lengths, groups } = bucket;
  for (let k = 0; k < lengths.length; k++) {
    const length = lengths[k] as number;
    if (length > room) break;
    const group = groups[k] as Group;
    if (isEntry(group)) {
      if (!checkEntry(scan, at, group)) return false;
      continue;
    }
    scan.work -= 1;
    if (scan.work < 0) return false;
    const [first] = group.values();
    if (first === undefined) continue;
    scan.prefix ??= new PrefixHashes(scan.text);
    const same = group.get(scan.prefix.of(at, length, hashed(first[0] as Entry).power));
    if (same === undefined) continue;
    for (const entry of same) if (!checkEntry(scan, at, entry)) return false;
  }
  return true;
}

/** Lists the entry if it is at `at`; false when the text is probing. */
function checkEntry(scan: Scan, at: number, entry: Entry): boolean {
  scan.work -= 1;
  if (scan.work < 0) return false;
  const length = entry.value.length;
  if (length > DIRECT_COMPARE) {
    // Whole hashes first: comparing characters at every position of a
    // periodic text ("kkkk…" against a long "kkk…k!") would be quadratic.
    scan.prefix ??= new PrefixHashes(scan.text);
    if (scan.prefix.of(at, length, hashed(entry).power) !== entry.hash) return true;
    // Almost surely there; the comparison makes it certain, once per real hit.
    scan.work -= length / DIRECT_COMPARE;
    if (scan.work < 0) return false;
  }
  if (!scan.text.startsWith(entry.value, at)) return true;
  if (scan.ranges.length >= scan.budget * 2) return false;
  scan.ranges.push(at, at + length);
  return true;
}

/** The smallest filter: 128 bytes (an owner with a few secrets), enough for 256 buckets before it grows. */
const FILTER_MIN_BITS = 1 << 10;

/** Values up to this long are compared directly: it costs about what hashing them would. */
const DIRECT_COMPARE = 64;
