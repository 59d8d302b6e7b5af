import { SecretMatcher } from "./secret-matcher.ts";

/**
 * A counted set of exact secret values (the same value may be registered by
 * several containers, or be both a token and a secret: it stays hidden until
 * the last registration goes) and the matchers that find them, built lazily —
 * on the first redaction after a change, never on the change itself.
 *
 * Building an automaton costs time linear in the total length of the set
 * (measured here: about 80 ms per MiB of secrets; 19 ms for 10,000 secrets of
 * about 30 characters — `npm run bench -- redaction`). A small set (≤ 64 Ki
 * characters: a few milliseconds) is simply rebuilt after each change. A
 * large one — the system log's set holds every owner's secrets — is not:
 * values added since the last build go into a small second matcher (rebuilt
 * from the additions only), and values removed stay in the big one until
 * the next full build. The full build runs once the additions reach a quarter
 * of the built set or the removals half of it, so its cost is amortised over
 * the changes that made it due: a create or a delete costs time in proportion
 * to what it changes, not to everything every owner holds. The price is that
 * a removed value may stay hidden for a while in a large set — it is only
 * ever over-redaction, never a leak.
 */
export class SecretSet {
  readonly #counts = new Map<string, number>();
  #base: SecretMatcher | undefined;
  #inBase = new Set<string>();
  #baseChars = 0;
  readonly #added = new Set<string>();
  #addedChars = 0;
  #delta: SecretMatcher | undefined;
  #removedChars = 0;
  #dirty = false;

  /** Distinct values in the set. */
  get size(): number {
    return this.#counts.size;
  }

  add(value: string): void {
    if (value.length === 0) return;
    const count = this.#counts.get(value) ?? 0;
    this.#counts.set(value, count + 1);
    if (count > 0) return;
    this.#dirty = true;
    if (this.#inBase.has(value)) {
      this.#removedChars -= value.length;
      return;
    }
    this.#added.add(value);
    this.#addedChars += value.length;
    this.#delta = undefined;
  }

  remove(value: string): void {
    const count = this.#counts.get(value);
    if (count === undefined) return;
    if (count > 1) {
      this.#counts.set(value, count - 1);
      return;
    }
    this.#counts.delete(value);
    this.#dirty = true;
    if (this.#added.delete(value)) {
      this.#addedChars -= value.length;
      this.#delta = undefined;
    } else if (this.#inBase.has(value)) {
      this.#removedChars += value.length;
    }
  }

  has(value: string): boolean {
    return this.#counts.has(value);
  }

  /** The matchers that together find every value in the set (and perhaps a few removed ones). */
  matchers(): SecretMatcher[] {
    if (this.#dirty && this.#rebuildDue()) this.#rebuild();
    this.#dirty = false;
    if (this.#added.size > 0) this.#delta ??= new SecretMatcher(this.#added);
    const out: SecretMatcher[] = [];
    if (this.#base && this.#base.size > 0) out.push(this.#base);
    if (this.#delta) out.push(this.#delta);
    return out;
  }

  #rebuildDue(): boolean {
    if (this.#base === undefined) return true;
    if (this.#baseChars <= EXACT_REBUILD_CHARS) return this.#addedChars > 0 || this.#removedChars > 0;
    return this.#addedChars * 4 > this.#baseChars || this.#removedChars * 2 > this.#baseChars;
  }

  #rebuild(): void {
    this.#inBase = new Set(this.#counts.keys());
    this.#base = new SecretMatcher(this.#inBase);
    this.#baseChars = 0;
    for (const value of this.#inBase) this.#baseChars += value.length;
    this.#added.clear();
    this.#addedChars = 0;
    this.#removedChars = 0;
    this.#delta = undefined;
  }
}

/** Below this many characters a set is rebuilt exactly after every change (a few ms at most). */
const EXACT_REBUILD_CHARS = 64 * 1024;
