import type { NodeLoad } from "../../cluster/placement.ts";
import { ContainerGoneError, StalePlacementError } from "../store-errors.ts";
import type { Placement } from "../store-ports.ts";

/**
 * A row of `placements`, the same in both databases. `node_id` is null once
 * the placement was removed: the row stays (until its container's row goes)
 * to keep the generation, so that no generation is ever given twice.
 */
export interface PlacementRow {
  container_id: string;
  node_id: string | null;
  generation: number;
  placed_at: number;
}

/** One node's sum in `loads`, the same in both databases. */
export interface NodeLoadRow {
  node_id: string;
  workloads: number;
  memory_mb: number;
  cpus: number;
}

/** The columns a placement's statements return, in either database. */
export const PLACEMENT_COLUMNS = "container_id, node_id, generation, placed_at";

/** A placed row as a Placement; undefined for a removed one. */
export function placementFromRow(row: PlacementRow | undefined): Placement | undefined {
  if (!row || row.node_id === null) return undefined;
  return {
    containerId: row.container_id,
    nodeId: row.node_id,
    generation: row.generation,
    placedAt: row.placed_at,
  };
}

const MIB = 1024 * 1024;

/** Per-node sums as the map choosePlacement takes (limits are kept in MiB, loads counted in bytes). */
export function loadsFromRows(rows: readonly NodeLoadRow[]): Map<string, NodeLoad> {
  return new Map(
    rows.map((row) => [
      row.node_id,
      { memoryBytes: Math.round(row.memory_mb * MIB), cpus: row.cpus, workloads: row.workloads },
    ]),
  );
}

/**
 * What is read after a refused compare-and-set, the same in both databases:
 * the container's row left-joined to its placement (no row at all: the
 * container has none; `container_id` null: it has no placement row).
 */
export const AFTER_REFUSAL_SELECT = `SELECT c.id, p.container_id, p.node_id, p.generation, p.placed_at
  FROM containers c LEFT JOIN placements p ON p.container_id = c.id WHERE c.id = `;

export type AfterRefusalRow = { id: string } & (PlacementRow | { [K in keyof PlacementRow]: null });

/** The error a refused compare-and-set rejects with, from what was read just after it. */
export function refusal(containerId: string, expected: number, found: AfterRefusalRow | undefined): Error {
  if (!found) return new ContainerGoneError(containerId);
  const current = found.container_id === null ? undefined : placementFromRow(found);
  return new StalePlacementError(containerId, expected, current?.generation ?? 0);
}

/** `expectedGeneration` is a count: a negative or fractional one is a bug of the caller's, not a lost race. */
export function checkExpectedGeneration(expected: number): void {
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new RangeError(`an expected generation is a whole number from 0, not ${expected}`);
  }
}
