import type { ContainerInfo, ContainerState, HealthState } from "@berth/client";
import type { Column } from "./column.ts";
import type { ContainerRow } from "./container-store.ts";

/** What the overview shows of the rows: a filter (by state, health, part of the name, a label) and a sort. */
export interface RowQuery {
  state: ContainerState | "";
  health: HealthState | "";
  name: string;
  /** `key` (the label is there) or `key=value`, as `container:list`'s filter takes it. */
  label: string;
  sortKey: string;
  descending: boolean;
}

export const DEFAULT_QUERY: RowQuery = {
  state: "",
  health: "",
  name: "",
  label: "",
  sortKey: "name",
  descending: false,
};

function hasLabel(info: ContainerInfo, label: string): boolean {
  const eq = label.indexOf("=");
  if (eq < 0) return Object.hasOwn(info.labels, label);
  const key = label.slice(0, eq);
  return Object.hasOwn(info.labels, key) && info.labels[key] === label.slice(eq + 1);
}

export function applyQuery(
  rows: ContainerRow[],
  query: RowQuery,
  columns: Column[],
  now: number,
): ContainerRow[] {
  const needle = query.name.trim().toLowerCase();
  const label = query.label.trim();
  const kept = rows.filter(
    (row) =>
      (query.state === "" || row.info.state === query.state) &&
      (query.health === "" || row.info.health === query.health) &&
      (needle === "" || row.info.name.toLowerCase().includes(needle)) &&
      (label === "" || hasLabel(row.info, label)),
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
