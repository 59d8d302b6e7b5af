import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import type { Store } from "./store-ports.ts";
import { openLegacySqliteStore } from "./testing/legacy-sqlite-store.ts";
import { describeStoreContract } from "./testing/store-contract.ts";

// The shared contract on SQLite, each test on a new file. When the SQLite store implements the
// ports, open it here with `openSqliteStore(path, cipher)` and delete testing/legacy-sqlite-store.ts.
const dirs: string[] = [];
const databases = new WeakMap<Store, import("node:sqlite").DatabaseSync>();

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describeStoreContract("SQLite", {
  async open() {
    const dir = await mkdtemp(join(tmpdir(), "berth-store-"));
    dirs.push(dir);
    const store = openLegacySqliteStore(join(dir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
    databases.set(store, store.db);
    return store;
  },
  async rawSpec(store, id) {
    const row = databases.get(store)?.prepare("SELECT spec FROM containers WHERE id = ?").get(id) as
      | { spec: string }
      | undefined;
    if (!row) throw new Error(`no row for ${id}`);
    return row.spec;
  },
});
