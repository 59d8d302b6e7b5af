import { describe, expect, it } from "vitest";
import { cpuMs } from "../../test/helpers/cpu-time.ts";
import { SecretMatcher } from "./secret-matcher.ts";

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function draw(next: () => number, alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)];
  return out;
}

/** Every occurrence of every value, overlapping ones included, found the slow and obvious way (String#indexOf compares code units). */
function naive(values: Iterable<string>, text: string): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
      out.push(`${at}-${at + value.length}`);
    }
  }
  return out.sort();
}

function found(matcher: SecretMatcher, text: string): string[] {
  const ranges: number[] = [];
  expect(matcher.collect(text, ranges, 1e9)).toBe(true);
  const out: string[] = [];
  for (let i = 0; i < ranges.length; i += 2) out.push(`${ranges[i]}-${ranges[i + 1]}`);
  return out.sort();
}

describe("SecretMatcher", () => {
  it("finds exactly what a naive search finds, overlapping hits included, for values of every length, as values come and go", () => {
    // A two-letter alphabet makes values share prefixes and overlap all the time. The second
    // draws single code units: non-ASCII ones, a CR, a combining mark, and the halves of a
    // surrogate pair, so that values and texts hold pairs, lone halves and joined clusters.
    for (const alphabet of ["ab", "a\u00e9\u20ac\r\u0301\u{1F600}"]) {
      const next = random(alphabet.length);
      const matcher = new SecretMatcher();
      const held = new Set<string>();
      for (let round = 0; round < 300; round++) {
        const value = draw(next, alphabet, 1 + Math.floor(next() * 70));
        if (held.has(value)) {
          matcher.remove(value);
          held.delete(value);
        } else {
          matcher.add(value);
          held.add(value);
        }
        const text = draw(next, alphabet, Math.floor(next() * 200)) + (next() < 0.5 ? value : "");
        expect(found(matcher, text)).toEqual(naive(held, text));
        expect(matcher.size).toBe(held.size);
      }
    }
  });

  it("matches code units, so nothing joined to a value's first or last character hides it", () => {
    const matcher = new SecretMatcher(["s3cr3t", "line\r", "caf\u00e9", "p\u{1F511}ss", "\ude00x"]);
    const cases: Array<[string, string[]]> = [
      ["s3cr3t\u0301", ["0-6"]],
      ["\u200ds3cr3t\u200d", ["1-7"]],
      ["s3cr3t\ufe0f", ["0-6"]],
      ["line\r\n", ["0-5"]],
      ["cafe\u0301 caf\u00e9\u0301", ["6-10"]],
      ["\u{1F600}p\u{1F511}ss\u{1F600}", ["2-7"]],
      // A value may even begin with the second half of a surrogate pair.
      ["\u{1F600}x", ["1-3"]],
    ];
    for (const [text, hits] of cases) expect(found(matcher, text), JSON.stringify(text)).toEqual(hits);
  });

  it("tells apart values that share their first 32 characters, whatever their lengths", () => {
    const prefix = "-----BEGIN PRIVATE KEY-----\nMIIE";
    const values = [`${prefix}one`, `${prefix}two`, `${prefix}three`, `${prefix}${"x".repeat(500)}`, prefix];
    const matcher = new SecretMatcher(values);
    expect(found(matcher, `${prefix}two ${prefix}thre`)).toEqual(naive(values, `${prefix}two ${prefix}thre`));
    matcher.remove(`${prefix}two`);
    expect(found(matcher, `${prefix}two`)).toEqual(["0-32"]);
    expect(found(matcher, `${prefix}${"x".repeat(500)}`)).toEqual(["0-32", "0-532"]);
  });

  it("costs one lookup per length where many values share a prefix: a tenant's thousand secrets starting with 'creating' cannot make a line of 'creating' expensive", () => {
    const values = Array.from({ length: 1000 }, (_, i) => `creating-${i.toString().padStart(4, "0")}`);
    const matcher = new SecretMatcher(values);
    const text = "creating container web; ".repeat(170);
    expect(found(matcher, text)).toEqual([]);
    expect(found(matcher, `${text}creating-0042`)).toEqual([`${text.length}-${text.length + 13}`]);
  });

  it("finds a long value in a periodic text without comparing it at every position", () => {
    const big = `${"k".repeat(32_767)}!`;
    const matcher = new SecretMatcher([big]);
    const text = `${"k".repeat(100_000)}!`;
    let matches: unknown;
    // CPU time, not the wall clock, which a loaded machine stretches: comparing at every position costs seconds.
    const ms = cpuMs(() => {
      matches = found(matcher, text);
    });
    expect(matches).toEqual([`${100_001 - big.length}-100001`]);
    expect(ms).toBeLessThan(200);
  });

  it("gives up on a text that makes it check many values at every position (the caller hides it whole)", () => {
    // 600 values sharing their first 32 characters, of 600 lengths: each position of a long run of "a" checks them all.
    const matcher = new SecretMatcher(Array.from({ length: 600 }, (_, i) => `${"a".repeat(32 + i)}!`));
    expect(matcher.collect("a".repeat(4096), [], 1e9)).toBe(false);
    expect(matcher.collect(`${"a".repeat(40)}!`, [], 1e9)).toBe(true);
  });

  it("spends nothing on values too long for the rest of the text: 600 secrets of lengths 1001–1600 sharing their first 32 characters make a line of 1000 'a' cheap", () => {
    // The review's scenario: each of the 969 positions where the shared window is seen used to
    // step over all 600 lengths, none of which fits, and none of it was charged to the budget:
    // about 2 ms of CPU per line, per follower, on the event loop. Now the lengths are walked
    // shortest first and the walk stops at the first that does not fit.
    const values = Array.from({ length: 600 }, (_, i) => `${"a".repeat(32)}${"b".repeat(1001 + i - 32)}`);
    const matcher = new SecretMatcher(values);
    const line = "a".repeat(1000);
    const before = process.cpuUsage();
    for (let i = 0; i < 300; i++) expect(found(matcher, line)).toEqual([]);
    const used = process.cpuUsage(before);
    // About 650 ms before; a few ms now. CPU time, not wall time, so a busy machine does not fail it.
    expect((used.user + used.system) / 1000).toBeLessThan(150);
    // And a value is still found where it fits (the shortest, alone: every longer one runs past the end).
    const text = `${"a".repeat(40)}${values[0]}`;
    expect(found(matcher, text)).toEqual([`40-${40 + 1001}`]);
  });

  it("charges every hit to the budget, so the budget bounds the work whatever the values", () => {
    // A hit that finds nothing to check costs one step: a run of "a" against one value that
    // starts with it stays far within 16 steps per character…
    const matcher = new SecretMatcher([`${"a".repeat(32)}!`]);
    expect(matcher.collect("a".repeat(10_000), [], 1e9)).toBe(true);
    // …while 600 lengths that all fit cost 600 steps per position, far past it: the matcher gives up.
    const fitting = new SecretMatcher(Array.from({ length: 600 }, (_, i) => `${"a".repeat(32 + i)}!`));
    expect(fitting.collect("a".repeat(1000), [], 1e9)).toBe(false);
  });

  it("keeps finding every value held while thousands come and go (its filter grows and is rebuilt)", () => {
    const value = (i: number) => `v-${i.toString(36).padStart(5, "0")}-${"z".repeat(i % 40)}`;
    const matcher = new SecretMatcher();
    for (let i = 0; i < 5000; i++) matcher.add(value(i));
    for (let i = 0; i < 5000; i++) if (i % 5 !== 0) matcher.remove(value(i));
    for (let i = 5000; i < 6000; i++) matcher.add(value(i));
    expect(matcher.size).toBe(2000);
    for (let i = 0; i < 6000; i += 7) {
      const held = i >= 5000 || i % 5 === 0;
      expect(found(matcher, `<${value(i)}>`)).toEqual(held ? [`1-${1 + value(i).length}`] : []);
    }
  });

  it("knows its longest value as values come and go", () => {
    const matcher = new SecretMatcher(["short-one", "x".repeat(100)]);
    expect(matcher.longest).toBe(100);
    matcher.remove("x".repeat(100));
    expect(matcher.longest).toBe(9);
    matcher.remove("short-one");
    expect([matcher.longest, matcher.size]).toEqual([0, 0]);
  });
});
