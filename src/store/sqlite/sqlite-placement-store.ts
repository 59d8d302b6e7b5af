import type { DatabaseSync, StatementSync } from "node:sqlite";
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
import { guardStorage } from "./storage-guard.ts";

/** SQLITE_CONSTRAINT_FOREIGNKEY (extended result code): the container has no row. */
const CONSTRAINT_FOREIGNKEY = 787;

/**
 * Placements in SQLite, with PostgreSQL's semantics: single-host berth has
 * one node, yet the same port answers the same way on both stores. Each
 * compare-and-set is one statement, and SQLite runs one writer at a time, so
 * two placements with the same expectation end with one winner here too,
 * even from two connections to the file.
 */
export class SqlitePlacementStore implements PlacementStore {
  readonly #first: StatementSync;
  readonly #next: StatementSync;
  readonly #afterRefusal: StatementSync;
  readonly #current: StatementSync;
  readonly #onNode: StatementSync;
  readonly #loads: StatementSync;
  readonly #nodes: StatementSync;
  readonly #remove: StatementSync;

  constructor(db: DatabaseSync) {
    // Not placed: no row yet, or a removed one whose generation goes on from where it was.
    this.#first = db.prepare(
      `INSERT INTO placements (container_id, node_id, generation, placed_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (container_id) DO UPDATE
         SET node_id = excluded.node_id, generation = placements.generation + 1, placed_at = excluded.placed_at
         WHERE placements.node_id IS NULL
       RETURNING ${PLACEMENT_COLUMNS}`,
    );
    this.#next = db.prepare(
      `UPDATE placements SET node_id = ?, generation = generation + 1, placed_at = ?
        WHERE container_id = ? AND generation = ? AND node_id IS NOT NULL
       RETURNING ${PLACEMENT_COLUMNS}`,
    );
    this.#afterRefusal = db.prepare(`${AFTER_REFUSAL_SELECT}?`);
    this.#current = db.prepare(`SELECT ${PLACEMENT_COLUMNS} FROM placements WHERE container_id = ?`);
    this.#onNode = db.prepare(
      `SELECT ${PLACEMENT_COLUMNS} FROM placements WHERE node_id = ? ORDER BY container_id`,
    );
    // The limits are read from the spec's JSON in SQL, as quota checks read them (SqliteOwnerUsageStore).
    this.#loads = db.prepare(
      `SELECT p.node_id, COUNT(*) AS workloads,
              SUM(COALESCE(json_extract(c.spec, '$.resources.memoryMb'), ?)) AS memory_mb,
              SUM(COALESCE(json_extract(c.spec, '$.resources.cpus'), ?)) AS cpus
         FROM placements p JOIN containers c ON c.id = p.container_id
        WHERE p.node_id IS NOT NULL AND c.state IN (SELECT value FROM json_each(?))
        GROUP BY p.node_id ORDER BY p.node_id`,
    );
    this.#nodes = db.prepare(
      "SELECT DISTINCT node_id FROM placements WHERE node_id IS NOT NULL ORDER BY node_id",
    );
    this.#remove = db.prepare(
      "UPDATE placements SET node_id = NULL WHERE container_id = ? AND generation = ? AND node_id IS NOT NULL",
    );
  }

  async place(containerId: string, nodeId: string, expectedGeneration: number): Promise<Placement> {
    checkExpectedGeneration(expectedGeneration);
    const row = guardStorage(() => {
      try {
        return (
          expectedGeneration === 0
            ? this.#first.get(containerId, nodeId, Date.now())
            : this.#next.get(nodeId, Date.now(), containerId, expectedGeneration)
        ) as PlacementRow | undefined;
      } catch (err) {
        const e = err as { code?: string; errcode?: number };
        if (e.code === "ERR_SQLITE_ERROR" && e.errcode === CONSTRAINT_FOREIGNKEY) {
          throw new ContainerGoneError(containerId, { cause: err });
        }
        throw err;
      }
    });
    const placed = placementFromRow(row);
    if (placed) return placed;
    throw refusal(
      containerId,
      expectedGeneration,
      this.#afterRefusal.get(containerId) as AfterRefusalRow | undefined,
    );
  }

  async current(containerId: string): Promise<Placement | undefined> {
    return placementFromRow(this.#current.get(containerId) as PlacementRow | undefined);
  }

  async onNode(nodeId: string): Promise<Placement[]> {
    return (this.#onNode.all(nodeId) as unknown as PlacementRow[])
      .map((row) => placementFromRow(row))
      .filter((p): p is Placement => p !== undefined);
  }

  async nodes(): Promise<string[]> {
    return (this.#nodes.all() as Array<{ node_id: string }>).map((r) => r.node_id);
  }

  async loads(defaults: ResourceDefaults): Promise<Map<string, NodeLoad>> {
    const rows = this.#loads.all(
      defaults.memoryMb,
      defaults.cpus,
      JSON.stringify([...RESERVING_STATES]),
    ) as unknown as NodeLoadRow[];
    return loadsFromRows(rows);
  }

  async remove(containerId: string, expectedGeneration: number): Promise<boolean> {
    const { changes } = guardStorage(() => this.#remove.run(containerId, expectedGeneration));
    if (Number(changes) > 0) return true;
    const now = await this.current(containerId);
    if (now) throw new StalePlacementError(containerId, expectedGeneration, now.generation);
    return false;
  }
}
