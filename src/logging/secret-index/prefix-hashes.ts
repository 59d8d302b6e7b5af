import { BASE, MODULUS, mod, mulMod } from "./modular-hash.ts";

/**
 * The hashes of every prefix of a text, made once per text and only when a
 * window hash matched: the hash of any substring is then a constant-time
 * computation, so a candidate is checked in constant time and compared
 * character by character only when it is (almost surely) there.
 */
export class PrefixHashes {
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
