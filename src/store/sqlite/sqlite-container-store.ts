import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ContainerState, HealthState, ReleaseStatus } from "#protocol";
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
import type { ContainerChanges, ContainerRecord, ContainerStore, ListQuery } from "../store-ports.ts";
import { asUniquenessError, guardStorage } from "./storage-guard.ts";

/**
 * SQLite access for containers. node:sqlite answers synchronously; the
 * methods are async only to implement the port (ContainerStore).
 *
 * Reads by id and by name are served from a write-through cache: every
 * request a client makes resolves its container first, and a SELECT plus the
 * spec's JSON.parse cost more than the rest of berth's own work on a channel
 * request. berth is the only writer of its database, so the cache cannot go
 * stale; callers get copies, so they cannot change it behind its back.
 *
 * Secret values (secretEnv, and env under secret-looking names) are sealed
 * with `cipher` on the way in and opened on the way out: the database file
 * never holds them in plain text.
 */
export class SqliteContainerStore implements ContainerStore {
  readonly #cache = new Map<string, ContainerRecord>();
  readonly #idByName = new Map<string, string>();
  readonly #db: DatabaseSync;
  readonly #byId: StatementSync;
  readonly #byName: StatementSync;
  readonly #insert: StatementSync;
  readonly #delete: StatementSync;
  readonly #all: StatementSync;
  readonly #uidTaken: StatementSync;
  readonly #tally: StatementSync;
  readonly #setRelease: StatementSync;
  readonly #setReleaseStatus: StatementSync;
  readonly #cipher: SecretCipher;

  constructor(db: DatabaseSync, cipher: SecretCipher) {
    this.#db = db;
    this.#cipher = cipher;
    this.#byId = db.prepare("SELECT * FROM containers WHERE id = ?");
    this.#byName = db.prepare("SELECT * FROM containers WHERE owner = ? AND name = ?");
    this.#insert = db.prepare(
      `INSERT INTO containers (${CONTAINER_ROW_COLUMNS.join(", ")})
       VALUES (${CONTAINER_ROW_COLUMNS.map((column) => `:${column}`).join(", ")})`,
    );
    this.#delete = db.prepare("DELETE FROM containers WHERE id = ?");
    this.#all = db.prepare("SELECT * FROM containers ORDER BY created_at, id");
    this.#uidTaken = db.prepare("SELECT 1 FROM containers WHERE uid = ?");
    this.#tally = db.prepare(
      "SELECT state, health, COUNT(*) AS count FROM containers GROUP BY state, health",
    );
    this.#setRelease = db.prepare("UPDATE containers SET release = ? WHERE id = ?");
    this.#setReleaseStatus = db.prepare(
      "UPDATE releases SET status = ? WHERE container_id = ? AND number = ?",
    );
  }

  async get(id: string): Promise<ContainerRecord | undefined> {
    return this.#get(id);
  }

  #get(id: string): ContainerRecord | undefined {
    let record = this.#cache.get(id);
    if (!record) {
      const row = this.#byId.get(id) as ContainerRow | undefined;
      if (!row) return undefined;
      record = this.#remember(this.#fromRow(row));
    }
    return { ...record };
  }

  async getByName(owner: string, name: string): Promise<ContainerRecord | undefined> {
    const id = this.#idByName.get(nameKey(owner, name));
    if (id !== undefined) return this.#get(id);
    const row = this.#byName.get(owner, name) as ContainerRow | undefined;
    return row && { ...this.#remember(this.#fromRow(row)) };
  }

  #remember(record: ContainerRecord): ContainerRecord {
    this.#cache.set(record.id, record);
    this.#idByName.set(nameKey(record.owner, record.name), record.id);
    return record;
  }

  #forget(id: string): void {
    const record = this.#cache.get(id);
    if (record) this.#idByName.delete(nameKey(record.owner, record.name));
    this.#cache.delete(id);
  }

  async findByName(name: string): Promise<ContainerRecord[]> {
    return (
      this.#db.prepare("SELECT * FROM containers WHERE name = ?").all(name) as unknown as ContainerRow[]
    ).map((row) => this.#fromRow(row));
  }

  /** Rejects with NameTakenError when the owner already has the name, UidTakenError when the uid is taken. */
  async insert(record: ContainerRecord): Promise<void> {
    try {
      guardStorage(() => this.#insertRow(record));
    } catch (err) {
      throw asUniquenessError(err, record.owner, record.name, record.uid);
    }
    this.#remember({ ...record });
  }

  #insertRow(record: ContainerRecord): void {
    const row = containerToRow(record, sealedSpecText(record.spec, record.id, this.#cipher));
    // Spread: node:sqlite's named parameters are typed as an index signature, which an interface is not.
    this.#insert.run({ ...row });
  }

  async update(id: string, changes: ContainerChanges): Promise<void> {
    const keys = Object.keys(changes) as Array<keyof typeof CONTAINER_COLUMNS>;
    if (keys.length === 0) return;
    const sets = keys.map((k) => `${CONTAINER_COLUMNS[k]} = ?`).join(", ");
    const values = keys.map((k) => {
      const v = changes[k];
      return k === "spec" ? sealedSpecText(v as StoredSpec, id, this.#cipher) : (v as string | number | null);
    });
    guardStorage(() => this.#db.prepare(`UPDATE containers SET ${sets} WHERE id = ?`).run(...values, id));
    const cached = this.#cache.get(id);
    if (cached) Object.assign(cached, changes);
  }

  async delete(id: string): Promise<void> {
    guardStorage(() => this.#delete.run(id));
    this.#forget(id);
  }

  async setRestartDue(id: string, due: { at: number | null; attempts?: number }): Promise<boolean> {
    const { at, attempts } = due;
    const sets = attempts === undefined ? "restart_due_at = ?" : "restart_due_at = ?, restart_attempts = ?";
    const values = attempts === undefined ? [at] : [at, attempts];
    const onlyExited = at === null ? "" : " AND state = 'exited'";
    const { changes } = guardStorage(() =>
      this.#db.prepare(`UPDATE containers SET ${sets} WHERE id = ?${onlyExited}`).run(...values, id),
    );
    if (Number(changes) === 0) return false;
    const cached = this.#cache.get(id);
    if (cached)
      Object.assign(
        cached,
        { restartDueAt: at },
        attempts === undefined ? {} : { restartAttempts: attempts },
      );
    return true;
  }

  async isUidTaken(uid: number): Promise<boolean> {
    return this.#uidTaken.get(uid) !== undefined;
  }

  /** How many containers are in each state and health, in one query (no spec is read or unsealed). */
  async tally(): Promise<Array<{ state: ContainerState; health: HealthState; count: number }>> {
    return this.#tally.all() as unknown as Array<{
      state: ContainerState;
      health: HealthState;
      count: number;
    }>;
  }

  async all(): Promise<ContainerRecord[]> {
    return (this.#all.all() as unknown as ContainerRow[]).map((row) => this.#fromRow(row));
  }

  async list(query: ListQuery): Promise<ContainerRecord[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (query.owner !== undefined) {
      where.push("owner = ?");
      params.push(query.owner);
    }
    if (query.state !== undefined) {
      where.push("state = ?");
      params.push(query.state);
    }
    if (query.health !== undefined) {
      where.push("health = ?");
      params.push(query.health);
    }
    if (query.namePrefix !== undefined) {
      // substr comparison, not LIKE: a prefix may contain '_' or '%'.
      where.push("substr(name, 1, ?) = ?");
      params.push(query.namePrefix.length, query.namePrefix);
    }
    if (query.after) {
      where.push("(created_at, id) > (?, ?)");
      params.push(query.after.createdAt, query.after.id);
    }
    const sql = `SELECT * FROM containers ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, id LIMIT ?`;
    return (this.#db.prepare(sql).all(...params, query.limit) as unknown as ContainerRow[]).map((row) =>
      this.#fromRow(row),
    );
  }

  /**
   * The row's `release`, the release `active` and the one it replaces
   * `replacedStatus`, in one transaction; the cache follows only once it
   * committed, so a failed switch leaves no trace in either.
   */
  async switchRelease(
    id: string,
    release: number,
    replacedStatus: "previous" | "rolled-back",
  ): Promise<void> {
    const current = this.#byId.get(id) as ContainerRow | undefined;
    if (!current) throw new Error(`no container ${id} to switch`);
    const replaced = current.release;
    const setStatus = (number: number, status: ReleaseStatus) =>
      Number(this.#setReleaseStatus.run(status, id, number).changes);
    guardStorage(() => {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        this.#setRelease.run(release, id);
        if (replaced !== null && replaced !== release) setStatus(replaced, replacedStatus);
        // A release that is not there: a bug in the caller, and nothing of the switch may stay.
        if (setStatus(release, "active") !== 1) throw new Error(`container ${id} has no release ${release}`);
        this.#db.exec("COMMIT");
      } catch (err) {
        this.#db.exec("ROLLBACK");
        throw err;
      }
    });
    const cached = this.#cache.get(id);
    if (cached) cached.release = release;
  }

  /**
   * A row as a record. A cached record is the same container as berth last
   * wrote it (berth is the only writer), so its copy is used: opening the
   * sealed secrets again for every listed row would cost a decryption each.
   */
  #fromRow(row: ContainerRow): ContainerRecord {
    const cached = this.#cache.get(row.id);
    if (cached) return { ...cached };
    return containerFromRow(row, openSpecText(row.spec, row.id, this.#cipher));
  }
}

function nameKey(owner: string, name: string): string {
  return `${owner}\u0000${name}`;
}
