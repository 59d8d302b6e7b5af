import type { ReleaseStatus } from "#protocol";
import type { ReleaseRecord } from "../store-ports.ts";

/** A row of `releases`, the same in both databases. */
export interface ReleaseRow {
  container_id: string;
  number: number;
  status: string;
  created_at: number;
  created_by: string;
  bytes: number;
  files: number;
  hash: string;
}

/** The columns an insert lists, in the order of `releaseValues`. */
export const RELEASE_COLUMNS = "container_id, number, status, created_at, created_by, bytes, files, hash";

/** A record as an insert's values, in the order of RELEASE_COLUMNS. */
export function releaseValues(r: ReleaseRecord): Array<string | number> {
  return [r.containerId, r.number, r.status, r.createdAt, r.createdBy, r.bytes, r.files, r.hash];
}

export function releaseFromRow(row: ReleaseRow): ReleaseRecord {
  return {
    containerId: row.container_id,
    number: row.number,
    status: row.status as ReleaseStatus,
    createdAt: row.created_at,
    createdBy: row.created_by,
    bytes: row.bytes,
    files: row.files,
    hash: row.hash,
  };
}
