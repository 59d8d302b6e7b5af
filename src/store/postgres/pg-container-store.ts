import type { ContainerState, HealthState } from "#protocol";
import type { StoredSpec } from "../../containers/container-spec.ts";
import type { SecretCipher } from "../../secrets/secret-cipher.ts";
import {
  CONTAINER_COLUMNS,
  CONTAINER_ROW_COLUMNS,
  type ContainerRow,
  containerFromRow,
  containerToRow,
  openSpecText,
  sealedSpecText,
} from "../rows/container-row.ts";
import { NameTakenError, UidTakenError } from "../store-errors.ts";
import type { ContainerChanges, ContainerRecord, ContainerStore, ListQuery } from "../store-ports.ts";
import type { PgDatabase } from "./pg-database.ts";
import { uniqueViolation } from "./pg-errors.ts";

/** Every column, the spec as the text the database keeps. */
const ROW = CONTAINER_ROW_COLUMNS.map((column) => (column === "spec" ? "spec::text AS spec" : column)).join(
  ", ",
);

const INSERT = `INSERT INTO containers (${CONTAINER_ROW_COLUMNS.join(", ")})
  VALUES (${CONTAINER_ROW_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`;

/**
 * Containers in PostgreSQL. No write-through cache: several berths will
 * share one database, so a row read here may have been written by another;
 * every read asks the database, and stays cheap as a named statement on
 * indexed columns (by id, by owner and name).
 *
 * Secret values are sealed with `cipher` on the way in and opened on the way
 * out, exactly as in the SQLite store. Opening costs a decryption per value,
 * so the opened spec of each container is kept with the text it came from
 * and handed out again while the row's text is the same: a read still reads
 * the row, and a spec another berth changed is opened anew. It also keeps
 * the spec object the same across reads while the spec is, as the SQLite
 * store does — SpecInfoCache keys the shown form on that object.
 */
export class PgContainerStore implements ContainerStore {
  readonly #db: PgDatabase;
  readonly #cipher: SecretCipher;
  readonly #opened = new Map<string, { text: string; spec: StoredSpec }>();

  constructor(db: PgDatabase, cipher: SecretCipher) {
    this.#db = db;
    this.#cipher = cipher;
  }

  async get(id: string): Promise<ContainerRecord | undefined> {
    const { rows } = await this.#db.run<ContainerRow>(
      "c-get",
      `SELECT ${ROW} FROM containers WHERE id = $1`,
      [id],
    );
    return rows[0] && this.#fromRow(rows[0]);
  }

  async getByName(owner: string, name: string): Promise<ContainerRecord | undefined> {
    const { rows } = await this.#db.run<ContainerRow>(
      "c-by-name",
      `SELECT ${ROW} FROM containers WHERE owner = $1 AND name = $2`,
      [owner, name],
    );
    return rows[0] && this.#fromRow(rows[0]);
  }

  async findByName(name: string): Promise<ContainerRecord[]> {
    const { rows } = await this.#db.run<ContainerRow>(
      "c-find-name",
      `SELECT ${ROW} FROM containers WHERE name = $1 ORDER BY created_at, id`,
      [name],
    );
    return rows.map((row) => this.#fromRow(row));
  }

  async insert(record: ContainerRecord): Promise<void> {
    try {
      const row = containerToRow(record, sealedSpecText(record.spec, record.id, this.#cipher));
      await this.#db.run(
        "c-insert",
        INSERT,
        CONTAINER_ROW_COLUMNS.map((column) => row[column]),
      );
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (constraint === "containers_name_unique")
        throw new NameTakenError(record.owner, record.name, { cause: err });
      if (constraint === "containers_uid_unique") throw new UidTakenError(record.uid, { cause: err });
      throw err;
    }
  }

  async update(id: string, changes: ContainerChanges): Promise<void> {
    const keys = (Object.keys(changes) as Array<keyof ContainerChanges>).filter(
      (k) => changes[k] !== undefined,
    );
    if (keys.length === 0) return;
    const sets = keys.map((k, i) => `${CONTAINER_COLUMNS[k]} = $${i + 2}`).join(", ");
    const values = keys.map((k) => {
      const v = changes[k];
      return k === "spec" ? sealedSpecText(v as StoredSpec, id, this.#cipher) : v;
    });
    // Named by the columns it sets: each shape is prepared once per connection.
    try {
      await this.#db.run(`c-update:${keys.join(",")}`, `UPDATE containers SET ${sets} WHERE id = $1`, [
        id,
        ...values,
      ]);
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (constraint === "containers_name_unique" && changes.name !== undefined) {
        const current = await this.get(id);
        throw new NameTakenError(changes.owner ?? current?.owner ?? "", changes.name, { cause: err });
      }
      if (constraint === "containers_uid_unique" && changes.uid !== undefined)
        throw new UidTakenError(changes.uid, { cause: err });
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    await this.#db.run("c-delete", "DELETE FROM containers WHERE id = $1", [id]);
    this.#opened.delete(id);
  }

  async setRestartDue(id: string, due: { at: number | null; attempts?: number }): Promise<boolean> {
    const { at, attempts } = due;
    const sets =
      attempts === undefined ? "restart_due_at = $2" : "restart_due_at = $2, restart_attempts = $3";
    const onlyExited = at === null ? "" : " AND state = 'exited'";
    const { rowCount } = await this.#db.run(
      `c-restart-due:${attempts === undefined ? "" : "a"}${at === null ? "" : "x"}`,
      `UPDATE containers SET ${sets} WHERE id = $1${onlyExited}`,
      attempts === undefined ? [id, at] : [id, at, attempts],
    );
    return (rowCount ?? 0) > 0;
  }

  async isUidTaken(uid: number): Promise<boolean> {
    const { rowCount } = await this.#db.run("c-uid-taken", "SELECT 1 FROM containers WHERE uid = $1", [uid]);
    return (rowCount ?? 0) > 0;
  }

  async tally(): Promise<Array<{ state: ContainerState; health: HealthState; count: number }>> {
    const { rows } = await this.#db.run<{ state: ContainerState; health: HealthState; count: number }>(
      "c-tally",
      "SELECT state, health, COUNT(*) AS count FROM containers GROUP BY state, health",
    );
    return rows;
  }

  async all(): Promise<ContainerRecord[]> {
    const { rows } = await this.#db.run<ContainerRow>(
      "c-all",
      `SELECT ${ROW} FROM containers ORDER BY created_at, id`,
    );
    const records = rows.map((row) => this.#fromRow(row));
    // Whatever another berth deleted is forgotten here too.
    const present = new Set(rows.map((row) => row.id));
    for (const id of this.#opened.keys()) if (!present.has(id)) this.#opened.delete(id);
    return records;
  }

  async list(query: ListQuery): Promise<ContainerRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const shape: string[] = [];
    const param = (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    };
    if (query.owner !== undefined) {
      where.push(`owner = ${param(query.owner)}`);
      shape.push("o");
    }
    if (query.state !== undefined) {
      where.push(`state = ${param(query.state)}`);
      shape.push("s");
    }
    if (query.health !== undefined) {
      where.push(`health = ${param(query.health)}`);
      shape.push("h");
    }
    if (query.namePrefix !== undefined) {
      // starts_with, not LIKE: a prefix may contain '_' or '%'.
      where.push(`starts_with(name, ${param(query.namePrefix)})`);
      shape.push("p");
    }
    if (query.after) {
      where.push(`(created_at, id) > (${param(query.after.createdAt)}, ${param(query.after.id)})`);
      shape.push("a");
    }
    const sql = `SELECT ${ROW} FROM containers ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, id LIMIT ${param(query.limit)}`;
    const { rows } = await this.#db.run<ContainerRow>(`c-list:${shape.join("")}`, sql, values);
    return rows.map((row) => this.#fromRow(row));
  }

  async switchRelease(
    id: string,
    release: number,
    replacedStatus: "previous" | "rolled-back",
  ): Promise<void> {
    await this.#db.transaction(async (tx) => {
      // FOR UPDATE: a second switch of the same container waits for this one, and reads what it wrote.
      const { rows } = await this.#db.run<{ release: number | null }>(
        "c-switch-lock",
        "SELECT release FROM containers WHERE id = $1 FOR UPDATE",
        [id],
        tx,
      );
      const current = rows[0];
      if (!current) throw new Error(`no container ${id} to switch`);
      if (current.release !== null && current.release !== release) {
        await this.#db.run(
          "r-set-status",
          "UPDATE releases SET status = $3 WHERE container_id = $1 AND number = $2",
          [id, current.release, replacedStatus],
          tx,
        );
      }
      const activated = await this.#db.run(
        "r-set-status",
        "UPDATE releases SET status = $3 WHERE container_id = $1 AND number = $2",
        [id, release, "active"],
        tx,
      );
      if (activated.rowCount !== 1) throw new Error(`container ${id} has no release ${release}`);
      await this.#db.run(
        "c-set-release",
        "UPDATE containers SET release = $2 WHERE id = $1",
        [id, release],
        tx,
      );
    });
  }

  #openSpec(id: string, text: string): StoredSpec {
    const kept = this.#opened.get(id);
    if (kept?.text === text) return kept.spec;
    const spec = openSpecText(text, id, this.#cipher);
    this.#opened.set(id, { text, spec });
    return spec;
  }

  #fromRow(row: ContainerRow): ContainerRecord {
    return containerFromRow(row, this.#openSpec(row.id, row.spec));
  }
}
