import type { DatabaseSync } from "node:sqlite";
import type { SecretCipher } from "../../secrets/secret-cipher.ts";
import { ActivityRepository } from "../activity-repository.ts";
import { ContainerRepository } from "../container-repository.ts";
import { openDatabase } from "../database.ts";
import { MetaRepository } from "../meta-repository.ts";
import { OwnerUsageRepository } from "../owner-usage-repository.ts";
import { ReleaseRepository } from "../release-repository.ts";
import { NameTakenError, UidTakenError } from "../store-errors.ts";
import type { ContainerRecord, Store } from "../store-ports.ts";

/**
 * TEMPORARY, until the SQLite store implements the ports itself
 * (`openSqliteStore` in src/store/sqlite/): today's synchronous SQLite
 * repositories behind the async ports, so that the shared contract runs
 * against SQLite now. Delete this file when src/store/sqlite-store.test.ts
 * opens the real one.
 */
export function openLegacySqliteStore(path: string, cipher: SecretCipher): Store & { db: DatabaseSync } {
  const db = openDatabase(path);
  const containers = new ContainerRepository(db, cipher);
  const releases = new ReleaseRepository(db);
  const activity = new ActivityRepository(db);
  const meta = new MetaRepository(db);
  const usage = new OwnerUsageRepository(db);
  let closed = false;
  return {
    kind: "sqlite",
    db,
    containers: {
      get: async (id) => containers.get(id),
      getByName: async (owner, name) => containers.getByName(owner, name),
      findByName: async (name) => containers.findByName(name),
      insert: async (record: ContainerRecord) => {
        try {
          containers.insert(record);
        } catch (err) {
          const message = (err as Error).message;
          if (message.includes("containers.owner, containers.name"))
            throw new NameTakenError(record.owner, record.name, { cause: err });
          if (message.includes("containers.uid")) throw new UidTakenError(record.uid, { cause: err });
          throw err;
        }
      },
      update: async (id, changes) => containers.update(id, changes),
      delete: async (id) => containers.delete(id),
      isUidTaken: async (uid) => containers.isUidTaken(uid),
      tally: async () => containers.tally(),
      all: async () => containers.all(),
      list: async (query) => containers.list(query),
      switchRelease: async (id, release, replacedStatus) => {
        releases.transaction(() => {
          const current = containers.get(id);
          if (!current) throw new Error(`no container ${id} to switch`);
          if (current.release !== null && current.release !== release)
            releases.setStatus(id, current.release, replacedStatus);
          if (!releases.get(id, release)) throw new Error(`container ${id} has no release ${release}`);
          releases.setStatus(id, release, "active");
          containers.update(id, { release });
        });
      },
    },
    releases: {
      insert: async (r) => releases.insert(r),
      get: async (id, n) => releases.get(id, n),
      list: async (id) => releases.list(id),
      pending: async () => releases.pending(),
      pendingOf: async (id) => releases.pendingOf(id),
      failPending: async (id, n) => releases.failPending(id, n),
      nextNumber: async (id) => releases.nextNumber(id),
      setStatus: async (id, n, s) => releases.setStatus(id, n, s),
      delete: async (id, n) => releases.delete(id, n),
    },
    activity: {
      insert: async (draft, ts) => activity.insert(draft, ts),
      history: async (query) => activity.history(query),
      prune: async (olderThan, keep) => activity.prune(olderThan, keep),
    },
    meta: { get: async (key) => meta.get(key), set: async (key, value) => meta.set(key, value) },
    usage: { containersOf: async (owner) => usage.containersOf(owner) },
    close: async () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
