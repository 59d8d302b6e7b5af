import { RESERVING_STATES, type ResourceDefaults } from "../../admission/container-usage.ts";
import type { NodeLoad } from "../../cluster/placement.ts";
import {
  AFTER_REFUSAL_SELECT,
  type AfterRefusalRow,
  checkExpectedGeneration,
  loadsFromRows,
  type NodeLoadRow,
  PLACEMENT_COLUMNS,
  type PlacementRow,
  placementFromRow,
  refusal,
} from "../rows/placement-row.ts";
import { ContainerGoneError, StalePlacementError } from "../store-errors.ts";
import type { Placement, PlacementStore } from "../store-ports.ts";
import type { PgDatabase } from "./pg-database.ts";
import { NOW_MS } from "./pg-now.ts";

/**
 * Placements in PostgreSQL. Each compare-and-set is one statement, so the
 * row lock it takes decides between two API servers placing one container
 * at once (READ COMMITTED): the second waits for the first to commit, then
 * finds the generation moved on (an UPDATE re-checks its WHERE on the new
 * row; an upsert's DO UPDATE re-checks its own) and writes nothing.
 */
export class PgPlacementStore implements PlacementStore {
  readonly #db: PgDatabase;

  constructor(db: PgDatabase) {
    this.#db = db;
  }

  async place(containerId: string, nodeId: string, expectedGeneration: number): Promise<Placement> {
    checkExpectedGeneration(expectedGeneration);
    const placed = placementFromRow(await this.#compareAndSet(containerId, nodeId, expectedGeneration));
    if (placed) return placed;
    const { rows } = await this.#db.run<AfterRefusalRow>("p-after-refusal", `${AFTER_REFUSAL_SELECT}$1`, [
      containerId,
    ]);
    throw refusal(containerId, expectedGeneration, rows[0]);
  }

  /** The new placement's row, or none when the generation had moved on. */
  async #compareAndSet(
    containerId: string,
    nodeId: string,
    expected: number,
  ): Promise<PlacementRow | undefined> {
    try {
      if (expected === 0) {
        // Not placed: no row yet, or a removed one whose generation goes on from where it was.
        const { rows } = await this.#db.run<PlacementRow>(
          "p-place-first",
          `INSERT INTO placements (container_id, node_id, generation, placed_at) VALUES ($1, $2, 1, ${NOW_MS})
           ON CONFLICT (container_id) DO UPDATE
             SET node_id = EXCLUDED.node_id, generation = placements.generation + 1, placed_at = EXCLUDED.placed_at
             WHERE placements.node_id IS NULL
           RETURNING ${PLACEMENT_COLUMNS}`,
          [containerId, nodeId],
        );
        return rows[0];
      }
      const { rows } = await this.#db.run<PlacementRow>(
        "p-place-next",
        `UPDATE placements SET node_id = $2, generation = generation + 1, placed_at = ${NOW_MS}
          WHERE container_id = $1 AND generation = $3 AND node_id IS NOT NULL
         RETURNING ${PLACEMENT_COLUMNS}`,
        [containerId, nodeId, expected],
      );
      return rows[0];
    } catch (err) {
      // foreign_key_violation: the container has no row (never stored, or deleted meanwhile).
      if ((err as { code?: unknown } | null)?.code === "23503") {
        throw new ContainerGoneError(containerId, { cause: err });
      }
      throw err;
    }
  }

  async current(containerId: string): Promise<Placement | undefined> {
    const { rows } = await this.#db.run<PlacementRow>(
      "p-current",
      `SELECT ${PLACEMENT_COLUMNS} FROM placements WHERE container_id = $1`,
      [containerId],
    );
    return placementFromRow(rows[0]);
  }

  async onNode(nodeId: string): Promise<Placement[]> {
    const { rows } = await this.#db.run<PlacementRow>(
      "p-on-node",
      `SELECT ${PLACEMENT_COLUMNS} FROM placements WHERE node_id = $1 ORDER BY container_id`,
      [nodeId],
    );
    return rows.map((row) => placementFromRow(row)).filter((p): p is Placement => p !== undefined);
  }

  async nodes(): Promise<string[]> {
    const { rows } = await this.#db.run<{ node_id: string }>(
      "p-nodes",
      "SELECT DISTINCT node_id FROM placements WHERE node_id IS NOT NULL ORDER BY node_id",
      [],
    );
    return rows.map((r) => r.node_id);
  }

  async loads(defaults: ResourceDefaults): Promise<Map<string, NodeLoad>> {
    // The limits are read from the spec's JSON in SQL, as quota checks read them (PgOwnerUsageStore).
    const { rows } = await this.#db.run<NodeLoadRow>(
      "p-loads",
      `SELECT p.node_id, COUNT(*) AS workloads,
              SUM(COALESCE((c.spec -> 'resources' ->> 'memoryMb')::float8, $1)) AS memory_mb,
              SUM(COALESCE((c.spec -> 'resources' ->> 'cpus')::float8, $2)) AS cpus
         FROM placements p JOIN containers c ON c.id = p.container_id
        WHERE p.node_id IS NOT NULL AND c.state = ANY($3::text[])
        GROUP BY p.node_id ORDER BY p.node_id`,
      [defaults.memoryMb, defaults.cpus, [...RESERVING_STATES]],
    );
    return loadsFromRows(rows);
  }

  async remove(containerId: string, expectedGeneration: number): Promise<boolean> {
    const { rowCount } = await this.#db.run(
      "p-remove",
      "UPDATE placements SET node_id = NULL WHERE container_id = $1 AND generation = $2 AND node_id IS NOT NULL",
      [containerId, expectedGeneration],
    );
    if ((rowCount ?? 0) > 0) return true;
    const now = await this.current(containerId);
    if (now) throw new StalePlacementError(containerId, expectedGeneration, now.generation);
    return false;
  }
}
