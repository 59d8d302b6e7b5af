import type { ActivityEntry } from "#protocol";
import { type ActivityDraft, EVERYONE } from "../../activity/activity-entry.ts";
import {
  ACTIVITY_INSERT_COLUMNS,
  type ActivityRow,
  activityEntryFromRow,
  activityInsert,
  insertedActivityEntry,
} from "../rows/activity-row.ts";
import type { ActivityStore, HistoryQuery } from "../store-ports.ts";
import type { PgDatabase, PgQueryable } from "./pg-database.ts";

/**
 * Transaction-level advisory lock taken by every insert ("berth" in ASCII,
 * then 2). A sequence hands out ids in the order transactions ask, not the
 * order they commit: entry 8 could become visible before entry 7, and a
 * client catching up with `afterId: 8` would never see 7. Under this lock an
 * insert takes its id only once the previous insert has committed, so ids
 * are commit-ordered — across every connection and every berth sharing the
 * database — at the cost of serialising activity inserts (a few a second).
 */
export const ACTIVITY_LOCK = 0x6265727468_02;

/**
 * The insert, as one statement (its own transaction): the CTE takes the lock
 * before the row, and with it the identity value, is made; the lock goes
 * with the commit.
 */
export const INSERT_ACTIVITY = `
  WITH serial AS (SELECT pg_advisory_xact_lock(${ACTIVITY_LOCK}))
  INSERT INTO activity (ts, owner, level, action, container_id, container_name, message, details)
  SELECT $1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::json FROM serial
  RETURNING id`;

/** The activity feed's history in PostgreSQL, with retention by count (per owner) and by age. */
export class PgActivityStore implements ActivityStore {
  readonly #db: PgDatabase;
  readonly #on: PgQueryable | undefined;

  /** `on`: a connection (inside a transaction) to insert through; tests use it to hold a commit back. */
  constructor(db: PgDatabase, on?: PgQueryable) {
    this.#db = db;
    this.#on = on;
  }

  async insert(draft: ActivityDraft, ts: number): Promise<ActivityEntry> {
    const insert = activityInsert(draft, ts);
    const { rows } = await this.#db.run<{ id: number }>(
      "a-insert",
      INSERT_ACTIVITY,
      ACTIVITY_INSERT_COLUMNS.map((column) => insert[column]),
      this.#on,
    );
    return insertedActivityEntry(insert, rows[0]!.id);
  }

  async history(query: HistoryQuery): Promise<ActivityEntry[]> {
    const values: unknown[] = [query.afterId ?? 0];
    const where = ["id > $1"];
    const shape: string[] = [];
    if (query.owner !== undefined) {
      values.push(query.owner, EVERYONE);
      where.push(`owner IN ($${values.length - 1}, $${values.length})`);
      shape.push("o");
    }
    if (query.containerId !== undefined) {
      values.push(query.containerId);
      where.push(`container_id = $${values.length}`);
      shape.push("c");
    }
    values.push(query.limit);
    const limit = `$${values.length}`;
    const select = `SELECT * FROM activity WHERE ${where.join(" AND ")}`;
    const sql = query.newest
      ? `SELECT * FROM (${select} ORDER BY id DESC LIMIT ${limit}) newest ORDER BY id`
      : `${select} ORDER BY id LIMIT ${limit}`;
    const name = `a-history:${shape.join("")}${query.newest ? ":newest" : ""}`;
    const { rows } = await this.#db.run<ActivityRow>(name, sql, values);
    return rows.map(activityEntryFromRow);
  }

  async prune(olderThan: number, keepPerOwner: number): Promise<number> {
    return this.#db.transaction(async (tx) => {
      const aged = await this.#db.run("a-prune-age", "DELETE FROM activity WHERE ts < $1", [olderThan], tx);
      const excess = await this.#db.run(
        "a-prune-count",
        `DELETE FROM activity WHERE id IN (
           SELECT id FROM (
             SELECT id, row_number() OVER (PARTITION BY owner ORDER BY id DESC) AS n FROM activity
           ) ranked WHERE n > $1)`,
        [keepPerOwner],
        tx,
      );
      return (aged.rowCount ?? 0) + (excess.rowCount ?? 0);
    });
  }
}
