/**
 * A history answer's bytes at most (its items' JSON, UTF-8): 1,000 entries may
 * be asked for at once, and an entry may carry a failed release's output, so a
 * page is bounded in bytes as well as in items.
 */
export const MAX_PAGE_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/**
 * The items of a page, cut to `maxBytes` of JSON from the end a reader goes
 * on from: from the start (`keep: "first"`, a reader who pages on with the
 * last id) or the end (`"last"`, the newest entries, paged back with older
 * ones). At least one item always, so that a reader who follows `hasMore`
 * always moves. `cut` says whether items were left out.
 *
 * @example
 * boundedPage(entries, "first", MAX_PAGE_BYTES); // { items: [...the first ones within 1 MiB], cut: true }
 */
export function boundedPage<T>(
  items: readonly T[],
  keep: "first" | "last",
  maxBytes = MAX_PAGE_BYTES,
): { items: T[]; cut: boolean } {
  const ordered = keep === "first" ? items : [...items].reverse();
  const kept: T[] = [];
  let used = 2; // the array's brackets
  for (const item of ordered) {
    const size = encoder.encode(JSON.stringify(item)).length + 1; // and its comma
    if (kept.length > 0 && used + size > maxBytes) break;
    kept.push(item);
    used += size;
  }
  if (keep === "last") kept.reverse();
  return { items: kept, cut: kept.length < items.length };
}
