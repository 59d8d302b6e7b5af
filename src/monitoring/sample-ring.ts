/**
 * A fixed number of the newest items, oldest first: pushing onto a full ring
 * overwrites its oldest item. Memory is bounded by `capacity` from the start
 * (one array, allocated once), which is what makes a per-container history
 * safe to keep for every running container.
 *
 * ```ts
 * const ring = new SampleRing<number>(3);
 * for (const n of [1, 2, 3, 4]) ring.push(n);
 * ring.toArray(); // [2, 3, 4]
 * ```
 */
export class SampleRing<T> {
  readonly capacity: number;
  readonly #items: (T | undefined)[];
  /** Where the next push goes. */
  #next = 0;
  #size = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer: ${capacity}`);
    this.#items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** The newest item, if any. */
  get newest(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[(this.#next - 1 + this.capacity) % this.capacity];
  }

  push(item: T): void {
    this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /** A copy of the items, oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const start = (this.#next - this.#size + this.capacity) % this.capacity;
    for (let i = 0; i < this.#size; i++) out.push(this.#items[(start + i) % this.capacity] as T);
    return out;
  }

  clear(): void {
    this.#items.fill(undefined);
    this.#next = 0;
    this.#size = 0;
  }
}
