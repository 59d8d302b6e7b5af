import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ActivityRepository } from "./activity-repository.ts";
import { openDatabase } from "./database.ts";

describe("ActivityRepository", () => {
  let dir: string;
  let repo: ActivityRepository;
  let close: () => void;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "act-"));
    const db = openDatabase(join(dir, "berth.db"));
    close = () => db.close();
    repo = new ActivityRepository(db);
  });
  afterEach(async () => {
    close();
    await rm(dir, { recursive: true, force: true });
  });

  const add = (owner: string, message: string, ts = Date.now(), containerId?: string) =>
    repo.insert({ owner, level: "info", action: "test", message, containerId }, ts);

  it("returns an owner's entries after an id, oldest first, with entries for everyone", () => {
    const a1 = add("alice", "a1");
    add("bob", "b1");
    add("*", "engine down");
    add("alice", "a2", Date.now(), "C0000000000A");
    expect(repo.history({ owner: "alice", afterId: a1.id, limit: 10 }).map((e) => e.message)).toEqual([
      "engine down",
      "a2",
    ]);
    expect(
      repo.history({ owner: "alice", containerId: "C0000000000A", limit: 10 }).map((e) => e.message),
    ).toEqual(["a2"]);
    expect(repo.history({ owner: undefined, limit: 10 })).toHaveLength(4);
  });

  it("gives an owner's newest entries with `newest`, still oldest first, and never another owner's", () => {
    for (const m of ["a1", "a2", "a3"]) add("alice", m);
    add("bob", "b1");
    expect(repo.history({ owner: "alice", newest: true, limit: 2 }).map((e) => e.message)).toEqual([
      "a2",
      "a3",
    ]);
    const [a1] = repo.history({ owner: "alice", limit: 1 });
    expect(
      repo.history({ owner: "alice", afterId: a1?.id, newest: true, limit: 10 }).map((e) => e.message),
    ).toEqual(["a2", "a3"]);
    expect(repo.history({ owner: "bob", newest: true, limit: 5 }).map((e) => e.message)).toEqual(["b1"]);
  });

  it("keeps at most the newest N entries per owner and drops entries past their age", () => {
    const old = Date.now() - 10_000;
    add("alice", "too old", old - 1);
    for (let i = 0; i < 5; i++) add("alice", `a${i}`);
    for (let i = 0; i < 2; i++) add("bob", `b${i}`);
    const removed = repo.prune(old, 3);
    expect(removed).toBe(3);
    expect(repo.history({ owner: "alice", limit: 10 }).map((e) => e.message)).toEqual(["a2", "a3", "a4"]);
    expect(repo.history({ owner: "bob", limit: 10 }).map((e) => e.message)).toEqual(["b0", "b1"]);
  });
});
