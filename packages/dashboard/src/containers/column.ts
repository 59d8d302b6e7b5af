import type { ComponentChild } from "preact";
import type { ContainerRow } from "./container-store.ts";

/**
 * One column of the overview table. To add one (restarts, a CPU sparkline):
 * a Column in OVERVIEW_COLUMNS (columns.tsx), where it should appear; the
 * table's header, cells and sorting follow from it.
 */
export interface Column {
  key: string;
  label: string;
  /** What the column sorts by; absent: not sortable. Missing values sort last. */
  sortValue?: (row: ContainerRow, now: number) => string | number | undefined;
  cell: (row: ContainerRow, now: number) => ComponentChild;
  /** Right-aligned figures. */
  numeric?: boolean;
  /** Shown to the admin only (who sees every owner's containers). */
  adminOnly?: boolean;
}
