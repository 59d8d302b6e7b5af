/**
 * Connections per owner (ConnectionCounter). A slot is taken in the handshake,
 * before the connection exists, so that many handshakes at once cannot all
 * pass the check; it is given back exactly once, whether the connection
 * closes later or never completes.
 */
export class ConnectionCounter {
  readonly #max: number;
  readonly #counts = new Map<string, number>();

  /** `max` connections per owner; 0 switches the cap off. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Takes a slot for `owner`; returns its release (safe to call twice), or undefined when the owner is at the cap. */
  take(owner: string): (() => void) | undefined {
    const count = this.#counts.get(owner) ?? 0;
    if (this.#max > 0 && count >= this.#max) return undefined;
    this.#counts.set(owner, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#counts.get(owner) ?? 1) - 1;
      if (left <= 0) this.#counts.delete(owner);
      else this.#counts.set(owner, left);
    };
  }

  count(owner: string): number {
    return this.#counts.get(owner) ?? 0;
  }
}
