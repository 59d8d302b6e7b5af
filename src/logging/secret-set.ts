import { SecretMatcher } from "./secret-matcher.ts";

/**
 * A counted set of exact secret values (the same value may be registered by
 * several containers, or be both a token and a secret: it stays hidden until
 * the last registration goes) and the matcher that finds them.
 *
 * The matcher is an index updated in place (see secret-matcher.ts): adding
 * or removing a value costs time in proportion to that value's length,
 * whatever else the set holds, and nothing is ever rebuilt — so a create or
 * a delete costs what it changes, the system log's set (every owner's
 * secrets) costs no more per change than an owner's own, and no later line
 * waits for a build. A removed value is forgotten at once.
 */
export class SecretSet {
  readonly #counts = new Map<string, number>();
  readonly #matcher = new SecretMatcher();

  /** Distinct values in the set. */
  get size(): number {
    return this.#counts.size;
  }

  add(value: string): void {
    if (value.length === 0) return;
    const count = this.#counts.get(value) ?? 0;
    this.#counts.set(value, count + 1);
    if (count === 0) this.#matcher.add(value);
  }

  remove(value: string): void {
    const count = this.#counts.get(value);
    if (count === undefined) return;
    if (count > 1) {
      this.#counts.set(value, count - 1);
      return;
    }
    this.#counts.delete(value);
    this.#matcher.remove(value);
  }

  has(value: string): boolean {
    return this.#counts.has(value);
  }

  /** The matchers that together find every value in the set. */
  matchers(): SecretMatcher[] {
    return this.#matcher.size > 0 ? [this.#matcher] : [];
  }
}
