import { type Bucket, type Group, isEntry } from "./by-length.ts";
import { type Entry, hashed } from "./entry.ts";
import { PrefixHashes } from "./prefix-hashes.ts";

/**
 * Steps of checking allowed per character of text before collect gives up:
 * a window hash that hit a bucket costs one, each length that fits and each
 * value compared one more (a real hit also costs its length / 64, for the
 * comparison that confirms it). Ordinary text hits a bucket only here and
 * there — far less than once per character; a run of one letter against a
 * secret made of it costs two or three per character per tier.
 */
export const WORK_PER_UNIT = 16;
/** …plus this many, for short texts. */
export const WORK_FLOOR = 1024;

/** The state of one collect call, shared by the tiers. */
export interface Scan {
  text: string;
  ranges: number[];
  budget: number;
  /** Checks left before the text counts as probing. */
  work: number;
  prefix: PrefixHashes | undefined;
}

/**
 * Checks the values filed under the window hash seen at `at`; false when the
 * text is probing. Every step is charged to the budget: the hit itself (so
 * the budget bounds the number of hits, whatever they lead to), each length
 * that fits, each value compared. Lengths that do not fit cost nothing: they
 * come after the last one that does, and the walk stops there.
 */
export function check(scan: Scan, at: number, bucket: Bucket): boolean {
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

/** Values up to this long are compared directly: it costs about what hashing them would. */
const DIRECT_COMPARE = 64;
