/** A log file as one stat() sees it: its size, and which file it is (a rotation makes a new one). */
export interface LogFileStat {
  size: number;
  ino: number;
}

/**
 * Adds up the bytes written to a container's log file across the engine's
 * rotations, from one stat() a sample. A changed inode is a rotation whatever
 * the sizes say: at 5 s samples, a workload writing 2 MiB/s or more can leave
 * the new file at least as large as the old one, and a size compared alone
 * would read as (bytes mod `maxBytes`) of growth. The bytes written before a
 * rotation are counted up to `maxBytes` (the json-file driver's `max-size`): a
 * lower bound when it rotated more than once between two samples. A file
 * without an inode (a test's) is taken as rotated when it shrank.
 *
 * ```ts
 * const counter = new LogByteCounter(10 * MiB);
 * counter.count({ size: 6 * MiB, ino: 1 }); // 0: the base
 * counter.count({ size: 7 * MiB, ino: 2 }); // 4 MiB + 7 MiB
 * ```
 */
export class LogByteCounter {
  readonly #maxBytes: number;
  #last: { size: number; ino: number | undefined } | undefined;
  #total = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * The bytes written since the first file seen (undefined without a file). A sample without a
   * file breaks the count: what was written meanwhile is unknown, so it counts for nothing.
   */
  count(size: number | undefined, ino?: number): number | undefined {
    const last = this.#last;
    this.#last = size === undefined ? undefined : { size, ino };
    if (size === undefined) return undefined;
    if (last === undefined) return this.#total;
    const rotated = ino !== undefined && last.ino !== undefined ? ino !== last.ino : size < last.size;
    this.#total += rotated ? Math.max(0, this.#maxBytes - last.size) + size : size - last.size;
    return this.#total;
  }
}
