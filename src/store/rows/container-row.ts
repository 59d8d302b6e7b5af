import type { ContainerState, HealthState } from "#protocol";
import type { StoredSpec } from "../../containers/container-spec.ts";
import { openSpec, type SpecJson, sealSpec } from "../../secrets/sealed-spec.ts";
import type { SecretCipher } from "../../secrets/secret-cipher.ts";
import type { ContainerChanges, ContainerRecord } from "../store-ports.ts";

/**
 * A row of `containers` as both databases hand it back. The spec is the
 * sealed spec's JSON text in both: SQLite keeps text, and the PostgreSQL
 * store reads its jsonb column as text (`spec::text`) so that it can tell an
 * unchanged spec from its text alone.
 */
export interface ContainerRow {
  id: string;
  owner: string;
  name: string;
  image: string;
  spec: string;
  docker_id: string | null;
  docker_name: string;
  state: string;
  health: string;
  uid: number;
  created_at: number;
  started_at: number | null;
  exit_code: number | null;
  release: number | null;
  restart_count: number;
  restart_due_at: number | null;
  restart_attempts: number;
}

/** The column each changeable field of a record is kept in. */
export const CONTAINER_COLUMNS: Record<keyof ContainerChanges, keyof ContainerRow> = {
  owner: "owner",
  name: "name",
  image: "image",
  spec: "spec",
  dockerId: "docker_id",
  dockerName: "docker_name",
  state: "state",
  health: "health",
  uid: "uid",
  createdAt: "created_at",
  startedAt: "started_at",
  exitCode: "exit_code",
  release: "release",
  restartCount: "restart_count",
  restartDueAt: "restart_due_at",
  restartAttempts: "restart_attempts",
};

/** Every column, in the order an insert lists them. */
export const CONTAINER_ROW_COLUMNS: ReadonlyArray<keyof ContainerRow> = [
  "id",
  ...(Object.values(CONTAINER_COLUMNS) as Array<keyof ContainerRow>),
];

/** The spec as the database keeps it: its secret values sealed with `cipher`, as JSON text. */
export function sealedSpecText(spec: StoredSpec, id: string, cipher: SecretCipher): string {
  return JSON.stringify(sealSpec(spec, id, cipher));
}

/** The spec a row's text holds, its secret values opened (a decryption each). */
export function openSpecText(text: string, id: string, cipher: SecretCipher): StoredSpec {
  return openSpec(JSON.parse(text) as SpecJson, id, cipher);
}

/** A record as a row, its spec already sealed into `specText`. */
export function containerToRow(record: ContainerRecord, specText: string): ContainerRow {
  return {
    id: record.id,
    owner: record.owner,
    name: record.name,
    image: record.image,
    spec: specText,
    docker_id: record.dockerId,
    docker_name: record.dockerName,
    state: record.state,
    health: record.health,
    uid: record.uid,
    created_at: record.createdAt,
    started_at: record.startedAt,
    exit_code: record.exitCode,
    release: record.release,
    restart_count: record.restartCount,
    restart_due_at: record.restartDueAt ?? null,
    restart_attempts: record.restartAttempts ?? 0,
  };
}

/** A row as a record, with `spec` already opened: each store keeps opened specs its own way. */
export function containerFromRow(row: ContainerRow, spec: StoredSpec): ContainerRecord {
  return {
    id: row.id,
    owner: row.owner,
    name: row.name,
    image: row.image,
    spec,
    dockerId: row.docker_id,
    dockerName: row.docker_name,
    state: row.state as ContainerState,
    health: row.health as HealthState,
    uid: row.uid,
    createdAt: row.created_at,
    startedAt: row.started_at,
    exitCode: row.exit_code,
    release: row.release,
    restartCount: row.restart_count,
    restartDueAt: row.restart_due_at,
    restartAttempts: row.restart_attempts,
  };
}
