import type { ActivityEntry, ActivityLevel } from "#protocol";
import type { ActivityDraft } from "../../activity/activity-entry.ts";

/**
 * A row of `activity`, with `details` parsed: PostgreSQL's driver parses its
 * json column itself, and the SQLite store parses its text
 * (`parseActivityDetails`) before it maps the row.
 */
export interface ActivityRow {
  id: number;
  ts: number;
  owner: string;
  level: string;
  action: string;
  container_id: string | null;
  container_name: string | null;
  message: string;
  details: Record<string, unknown> | null;
}

/** What an insert writes: every column but the id the database hands out, `details` as JSON text. */
export type ActivityInsert = Omit<ActivityRow, "id" | "details"> & { details: string | null };

/** The columns an insert lists, in order. */
export const ACTIVITY_INSERT_COLUMNS: ReadonlyArray<keyof ActivityInsert> = [
  "ts",
  "owner",
  "level",
  "action",
  "container_id",
  "container_name",
  "message",
  "details",
];

export function activityInsert(draft: ActivityDraft, ts: number): ActivityInsert {
  return {
    ts,
    owner: draft.owner,
    level: draft.level,
    action: draft.action,
    container_id: draft.containerId ?? null,
    container_name: draft.containerName ?? null,
    message: draft.message,
    details: draft.details === undefined ? null : JSON.stringify(draft.details),
  };
}

export function parseActivityDetails(text: string | null): Record<string, unknown> | null {
  return text === null ? null : (JSON.parse(text) as Record<string, unknown>);
}

/**
 * The entry an insert made, as a reader will get it: its details through
 * JSON, like the stored copy.
 */
export function insertedActivityEntry(insert: ActivityInsert, id: number): ActivityEntry {
  return activityEntryFromRow({ ...insert, id, details: parseActivityDetails(insert.details) });
}

export function activityEntryFromRow(row: ActivityRow): ActivityEntry {
  const entry: ActivityEntry = {
    id: row.id,
    ts: row.ts,
    level: row.level as ActivityLevel,
    action: row.action,
    message: row.message,
  };
  if (row.container_id !== null) entry.containerId = row.container_id;
  if (row.container_name !== null) entry.containerName = row.container_name;
  if (row.details !== null) entry.details = row.details;
  return entry;
}
