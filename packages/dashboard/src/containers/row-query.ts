import type { ContainerState } from "@berth/client";
import type { Column } from "./column.ts";
import type { ContainerRow } from "./container-store.ts";

/** What the overview shows of the rows: a filter (by state, by part of the name) and a sort. */
export interface RowQuery {
  state: ContainerState | "";
  name: string;
  sortKey: string;
  descending: boolean;
}

export const DEFAULT_QUERY: RowQuery = { state: "", name: "", sortKey: "name", descending: false };

export function applyQuery(
  rows: ContainerRow[],
  query: RowQuery,
  columns: Column[],
  now: number,
): ContainerRow[] {
  const needle = query.name.trim().toLowerCase();
  const kept = rows.filter(
    (row) =>
      (query.state === "" || row.info.state === query.state) &&
      (needle === "" || row.info.name.toLowerCase().includes(needle)),
  );
  const sortValue = columns.find((c) => c.key === query.sortKey)?.sortValue;
  if (!sortValue) return kept;
  const direction = query.descending ? -1 : 1;
  return kept.sort((a, b) => {
    const x = sortValue(a, now);
    const y = sortValue(b, now);
    // Rows without a value (a stopped container's CPU) go last whichever way the column sorts.
    if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? 1 : -1;
    const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return order === 0 ? a.info.name.localeCompare(b.info.name) : order * direction;
  });
}
