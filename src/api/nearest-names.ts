/**
 * The `count` names nearest to `input` by edit distance (Levenshtein: one
 * insertion, deletion or substitution each), nearest first, ties in the
 * order of `names`. The caller bounds `input`'s length: the cost is its
 * length times each name's.
 *
 * @example nearestNames("container:creat", ["container:create", "container:start"], 1) // ["container:create"]
 */
export function nearestNames(input: string, names: readonly string[], count: number): string[] {
  return names
    .map((name, index) => ({ name, index, distance: editDistance(input, name) }))
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .slice(0, count)
    .map((n) => n.name);
}

/** Levenshtein distance with one row of memory. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, substitution));
    }
    previous = row;
  }
  return previous[b.length] ?? 0;
}
