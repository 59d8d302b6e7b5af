import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll } from "vitest";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "./sqlite/sqlite-store.ts";
import type { Store } from "./store-ports.ts";
import { describeStoreContract } from "./testing/store-contract.ts";

// The shared contract on SQLite, each test on a new file; raw rows are read through a connection of the test's own.
const dirs: string[] = [];
const paths = new WeakMap<Store, string>();

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describeStoreContract("SQLite", {
  async open() {
    const dir = await mkdtemp(join(tmpdir(), "berth-store-"));
    dirs.push(dir);
    const path = join(dir, "berth.db");
    const store = openSqliteStore(path, new SecretCipher(KeyRing.ephemeral()));
    paths.set(store, path);
    return store;
  },
  async rawSpec(store, id) {
    const db = new DatabaseSync(paths.get(store) ?? "");
    try {
      const row = db.prepare("SELECT spec FROM containers WHERE id = ?").get(id) as
        | { spec: string }
        | undefined;
      if (!row) throw new Error(`no row for ${id}`);
      return row.spec;
    } finally {
      db.close();
    }
  },
});
