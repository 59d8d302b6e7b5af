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
  content_digest: string | null;
}

/** The columns an insert lists, in the order of `releaseValues`. */
export const RELEASE_COLUMNS =
  "container_id, number, status, created_at, created_by, bytes, files, hash, content_digest";

/** A record as an insert's values, in the order of RELEASE_COLUMNS. */
export function releaseValues(r: ReleaseRecord): Array<string | number | null> {
  return [
    r.containerId,
    r.number,
    r.status,
    r.createdAt,
    r.createdBy,
    r.bytes,
    r.files,
    r.hash,
    r.contentDigest ?? null,
  ];
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
    contentDigest: row.content_digest,
  };
}
