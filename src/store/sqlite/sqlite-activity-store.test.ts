import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeyRing } from "../../secrets/key-ring.ts";
import { SecretCipher } from "../../secrets/secret-cipher.ts";
import type { ActivityStore, HistoryQuery, Store } from "../store-ports.ts";
import { openSqliteStore } from "./sqlite-store.ts";

describe("SqliteActivityStore", () => {
  let dir: string;
  let store: Store;
  let repo: ActivityStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "act-"));
    store = openSqliteStore(join(dir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
    repo = store.activity;
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const add = (owner: string, message: string, ts = Date.now(), containerId?: string) =>
    repo.insert({ owner, level: "info", action: "test", message, containerId }, ts);
  const messages = async (query: HistoryQuery) => (await repo.history(query)).map((e) => e.message);

  it("returns an owner's entries after an id, oldest first, with entries for everyone", async () => {
    const a1 = await add("alice", "a1");
    await add("bob", "b1");
    await add("*", "engine down");
    await add("alice", "a2", Date.now(), "C0000000000A");
    expect(await messages({ owner: "alice", afterId: a1.id, limit: 10 })).toEqual(["engine down", "a2"]);
    expect(await messages({ owner: "alice", containerId: "C0000000000A", limit: 10 })).toEqual(["a2"]);
    expect(await repo.history({ owner: undefined, limit: 10 })).toHaveLength(4);
  });

  it("gives an owner's newest entries with `newest`, still oldest first, and never another owner's", async () => {
    for (const m of ["a1", "a2", "a3"]) await add("alice", m);
    await add("bob", "b1");
    expect(await messages({ owner: "alice", newest: true, limit: 2 })).toEqual(["a2", "a3"]);
    const [a1] = await repo.history({ owner: "alice", limit: 1 });
    expect(await messages({ owner: "alice", afterId: a1?.id, newest: true, limit: 10 })).toEqual([
      "a2",
      "a3",
    ]);
    expect(await messages({ owner: "bob", newest: true, limit: 5 })).toEqual(["b1"]);
  });

  it("keeps at most the newest N entries per owner and drops entries past their age", async () => {
    const old = Date.now() - 10_000;
    await add("alice", "too old", old - 1);
    for (let i = 0; i < 5; i++) await add("alice", `a${i}`);
    for (let i = 0; i < 2; i++) await add("bob", `b${i}`);
    expect(await repo.prune(old, 3)).toBe(3);
    expect(await messages({ owner: "alice", limit: 10 })).toEqual(["a2", "a3", "a4"]);
    expect(await messages({ owner: "bob", limit: 10 })).toEqual(["b0", "b1"]);
  });
});
