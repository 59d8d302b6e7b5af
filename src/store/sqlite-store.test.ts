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
const opened = new WeakMap<Store, { path: string; cipher: SecretCipher }>();

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describeStoreContract("SQLite", {
  async open() {
    const dir = await mkdtemp(join(tmpdir(), "berth-store-"));
    dirs.push(dir);
    const path = join(dir, "berth.db");
    const cipher = new SecretCipher(KeyRing.ephemeral());
    const store = openSqliteStore(path, cipher);
    opened.set(store, { path, cipher });
    return store;
  },
  async reopen(store) {
    const of = opened.get(store);
    if (!of) throw new Error("not a store of this file");
    return openSqliteStore(of.path, of.cipher);
  },
  async rawSpec(store, id) {
    const db = new DatabaseSync(opened.get(store)?.path ?? "");
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
