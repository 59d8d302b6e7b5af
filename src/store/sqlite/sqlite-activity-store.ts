import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ActivityEntry } from "#protocol";
import type { ActivityDraft } from "../../activity/activity-entry.ts";
import { EVERYONE } from "../../activity/activity-entry.ts";
import {
  ACTIVITY_INSERT_COLUMNS,
  type ActivityRow,
  activityEntryFromRow,
  activityInsert,
  insertedActivityEntry,
  parseActivityDetails,
} from "../rows/activity-row.ts";

/** A row as SQLite hands it back: `details` is JSON text. */
type SqliteActivityRow = Omit<ActivityRow, "details"> & { details: string | null };

import type { ActivityStore, HistoryQuery } from "../store-ports.ts";

/**
 * The activity feed's history in SQLite, with retention by count (per owner)
 * and by age. One connection writes one statement at a time, so ids follow
 * commit order (the port's promise) without more.
 */
export class SqliteActivityStore implements ActivityStore {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT INTO activity (ts, owner, level, action, container_id, container_name, message, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    );
  }

  async insert(draft: ActivityDraft, ts: number): Promise<ActivityEntry> {
    const insert = activityInsert(draft, ts);
    const row = this.#insert.get(...ACTIVITY_INSERT_COLUMNS.map((column) => insert[column])) as {
      id: number;
    };
    return insertedActivityEntry(insert, row.id);
  }

  /** Entries after `afterId`, oldest first: exactly what a client missed, in order. */
  async history(query: HistoryQuery): Promise<ActivityEntry[]> {
    const where = ["id > ?"];
    const params: Array<string | number> = [query.afterId ?? 0];
    if (query.owner !== undefined) {
      where.push("owner IN (?, ?)");
      params.push(query.owner, EVERYONE);
    }
    if (query.containerId !== undefined) {
      where.push("container_id = ?");
      params.push(query.containerId);
    }
    const select = `SELECT * FROM activity WHERE ${where.join(" AND ")}`;
    const sql = query.newest
      ? `SELECT * FROM (${select} ORDER BY id DESC LIMIT ?) ORDER BY id`
      : `${select} ORDER BY id LIMIT ?`;
    return (this.#db.prepare(sql).all(...params, query.limit) as unknown as SqliteActivityRow[]).map((row) =>
      activityEntryFromRow({ ...row, details: parseActivityDetails(row.details) }),
    );
  }

  /** Deletes entries older than `olderThan` and all but the newest `keepPerOwner` of each owner. */
  async prune(olderThan: number, keepPerOwner: number): Promise<number> {
    let removed = Number(this.#db.prepare("DELETE FROM activity WHERE ts < ?").run(olderThan).changes);
    const owners = this.#db
      .prepare("SELECT owner, COUNT(*) AS n FROM activity GROUP BY owner HAVING n > ?")
      .all(keepPerOwner) as Array<{
      owner: string;
    }>;
    for (const { owner } of owners) {
      removed += Number(
        this.#db
          .prepare(
            "DELETE FROM activity WHERE owner = ? AND id <= (SELECT id FROM activity WHERE owner = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
          )
          .run(owner, owner, keepPerOwner).changes,
      );
    }
    return removed;
  }
}
