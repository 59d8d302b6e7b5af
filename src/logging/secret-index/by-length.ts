import { type Entry, entryOf, hashed } from "./entry.ts";

/**
 * Where the values filed under one window hash are: one entry (almost always),
 * or — values sharing their first `window` characters, or a window collision —
 * groups by length. A group is one entry, or (values of one length sharing
 * their first characters: PKCS#8 keys of one size) entries by whole hash, so
 * a hit costs one lookup per length however many values share a prefix.
 */
export type Group = Entry | Map<number, Entry[]>;
export type Bucket = Entry | ByLength;

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
export class ByLength {
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

export function isEntry(item: Entry | ByLength | Map<number, unknown>): item is Entry {
  return !(item instanceof Map || item instanceof ByLength);
}

export function fileByLength(byLength: ByLength, entry: Entry): boolean {
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

export function unfileByLength(byLength: ByLength, value: string): boolean {
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
