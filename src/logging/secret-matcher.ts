import AhoCorasick from "modern-ahocorasick";
import { inView } from "./code-unit-view.ts";

/**
 * An immutable Aho–Corasick automaton over a set of exact secret values
 * (modern-ahocorasick), matching in the code-unit view (see code-unit-view.ts).
 * Matching costs time linear in the text plus the occurrences found, whatever
 * the number or the length of the secrets; building costs time linear in
 * their total length (about 80 ms per MiB here), which is why SecretSet builds
 * as rarely as it can. No regular expression is ever made from a secret.
 */
export class SecretMatcher {
  readonly #automaton: AhoCorasick;
  /** The longest pattern, in original code units. */
  readonly longest: number;
  readonly size: number;

  constructor(patterns: Iterable<string>) {
    const list = [...patterns].filter((p) => p.length > 0);
    this.#automaton = new AhoCorasick(list.map(inView));
    this.longest = list.reduce((max, p) => Math.max(max, p.length), 0);
    this.size = list.length;
  }

  /**
   * Appends every occurrence in `view` (a code-unit view's text) to `ranges`
   * as start/end pairs in view offsets, overlapping ones included. Returns
   * false as soon as more than `budget` occurrences were listed: a text made
   * to hit many overlapping secrets at every position is hidden whole rather
   * than listed at quadratic cost.
   */
  collect(view: string, ranges: number[], budget: number): boolean {
    if (this.size === 0) return true;
    for (const hit of this.#automaton.iterate(view)) {
      if (ranges.length >= budget * 2) return false;
      ranges.push(hit.start, hit.end);
    }
    return true;
  }
}
