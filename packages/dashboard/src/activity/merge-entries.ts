import type { ActivityEntry } from "@berth/client";

/**
 * `held` with `incoming` added, newest first, each id once, the newest `keep`
 * only. Entries reach the activity page three ways — the first read, the
 * pushes, and the catch-ups after a reload or a reconnect — which overlap and
 * arrive in any order; the id (which berth assigns in order) settles both the
 * order and what is the same entry. `held` is not changed.
 *
 * @example
 *   mergeEntries([{ id: 3, … }, { id: 1, … }], [{ id: 2, … }, { id: 3, … }], 200); // ids 3, 2, 1
 */
export function mergeEntries(
  held: readonly ActivityEntry[],
  incoming: readonly ActivityEntry[],
  keep: number,
): ActivityEntry[] {
  const byId = new Map<number, ActivityEntry>();
  for (const entry of held) byId.set(entry.id, entry);
  for (const entry of incoming) if (!byId.has(entry.id)) byId.set(entry.id, entry);
  return [...byId.values()].sort((a, b) => b.id - a.id).slice(0, Math.max(0, keep));
}

/** The id of the newest entry held (entries newest first, as mergeEntries gives them), or undefined when none. */
export function newestId(entries: readonly ActivityEntry[]): number | undefined {
  return entries[0]?.id;
}
