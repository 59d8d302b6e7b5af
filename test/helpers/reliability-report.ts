import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";

/**
 * One row of docs/reliability.md: what a soak test did, what it measured,
 * which invariants it checked. Written by the test itself, after its
 * assertions held; `npm run test:soak` (scripts/soak.ts) gathers the rows,
 * adds each file's outcome from Vitest and writes the table — nobody types a
 * figure. Outside the soak run (BERTH_RELIABILITY_DIR unset) this does nothing.
 *
 * @example
 *   await reportReliability(import.meta.filename, {
 *     id: "mass-create-delete",
 *     test: "50 concurrent creates, then 50 concurrent deletes",
 *     did: "10 rounds × 50 containers, 2 owners",
 *     measured: "72 s; 1,000 answers, 0 % refused",
 *     invariants: "store, engine and disk agree after every round; nothing left after the deletes",
 *   });
 */
export interface ReliabilityRow {
  /** Stable key: one row per key, the last write wins; also the row's order in the table. */
  id: string;
  /** The fault or load, in a few words. */
  test: string;
  /** What the run did: rounds, clients, containers, duration. */
  did: string;
  /** The figures measured (latencies, recovery times, shares refused, memory). */
  measured: string;
  /** What was checked after every round. */
  invariants: string;
}

/** Whether this run gathers rows (`npm run test:soak`). */
export const RELIABILITY_DIR = process.env.BERTH_RELIABILITY_DIR || undefined;

export async function reportReliability(testFile: string, row: ReliabilityRow): Promise<void> {
  if (!RELIABILITY_DIR) return;
  const file = relative(process.cwd(), testFile);
  await mkdir(RELIABILITY_DIR, { recursive: true });
  await writeFile(join(RELIABILITY_DIR, `${row.id}.json`), `${JSON.stringify({ ...row, file })}\n`);
}
