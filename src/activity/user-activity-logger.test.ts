import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ActivityEntry } from "#protocol";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger, type SystemLogger } from "../logging/system-logger.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { ActivityStore, Store } from "../store/store-ports.ts";
import { type ActivityDraft, EVERYONE } from "./activity-entry.ts";
import { UserActivityLogger } from "./user-activity-logger.ts";

/**
 * A store whose inserts answer when the test says, in any order (a network
 * database's commits), numbering entries in the order the inserts were made.
 */
function slowStore() {
  const answers: Array<() => void> = [];
  let nextId = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  const store: ActivityStore = {
    insert: (draft: ActivityDraft, ts: number) => {
      const id = ++nextId;
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      return new Promise<ActivityEntry>((resolve) =>
        answers.push(() => {
          inFlight--;
          resolve({ id, ts, level: draft.level, action: draft.action, message: draft.message });
        }),
      );
    },
    history: async () => [],
    prune: async () => 0,
  };
  return {
    store,
    answers,
    mostInFlight: () => mostInFlight,
  };
}

const draft = (message: string): ActivityDraft => ({
  owner: "alice",
  level: "info",
  action: "test",
  message,
});

describe("UserActivityLogger", () => {
  it("stores one entry at a time and pushes them in id order, however late the store answers", async () => {
    const { store, answers, mostInFlight } = slowStore();
    const secrets = new SecretRegistry();
    const log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    const feed = new UserActivityLogger(store, secrets, log, { maxEntriesPerOwner: 100, maxAgeMs: 60_000 });
    const pushed: number[] = [];
    feed.on("entry", (_owner, entry) => pushed.push(entry.id));

    const recorded = ["a", "b", "c"].map((m) => feed.record(draft(m)));
    // Answered as they come: each insert is made only once the one before it has been answered.
    while (pushed.length < 3) {
      await new Promise((r) => setImmediate(r));
      answers.shift()?.();
    }
    expect((await Promise.all(recorded)).map((e) => e?.message)).toEqual(["a", "b", "c"]);
    expect(pushed).toEqual([1, 2, 3]);
    expect(mostInFlight()).toBe(1);
    await feed.close();
  });

  it("reads the history only once the entries recorded before it are stored", async () => {
    const { store, answers } = slowStore();
    const stored: string[] = [];
    const insert = store.insert;
    store.insert = async (d, ts) => {
      const entry = await insert(d, ts);
      stored.push(entry.message);
      return entry;
    };
    let readAfter: string[] | undefined;
    store.history = async () => {
      readAfter = [...stored];
      return [];
    };
    const secrets = new SecretRegistry();
    const log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    const feed = new UserActivityLogger(store, secrets, log, { maxEntriesPerOwner: 100, maxAgeMs: 60_000 });

    // An operation's entry is recorded before its answer goes out; the client then asks for the history.
    void feed.record(draft("Created and started 'holder'"));
    const history = feed.history({ owner: "alice", limit: 10 });
    await new Promise((r) => setImmediate(r));
    expect(readAfter).toBeUndefined();
    answers.shift()?.();
    await history;
    expect(readAfter).toEqual(["Created and started 'holder'"]);
    await feed.close();
  });

  it("redacts an entry with the secrets in force when it was recorded, not when it is stored", async () => {
    const { store, answers } = slowStore();
    const secrets = new SecretRegistry();
    const log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    const feed = new UserActivityLogger(store, secrets, log, { maxEntriesPerOwner: 100, maxAgeMs: 60_000 });
    secrets.addEnvironment("alice", {}, { TOKEN: "canary-4242-secret" });
    const recorded = feed.record(draft("deleted, with canary-4242-secret in its message"));
    // The container is deleted (its secrets forgotten) before the store answers.
    secrets.removeEnvironment("alice", {}, { TOKEN: "canary-4242-secret" });
    await new Promise((r) => setImmediate(r));
    answers.shift()?.();
    expect((await recorded)?.message).not.toContain("canary-4242-secret");
    await feed.close();
  });
});

describe("UserActivityLogger on the SQLite store", () => {
  const HOUR = 3_600_000;
  let dir: string;
  let store: Store;
  let secrets: SecretRegistry;
  let log: SystemLogger;
  let feeds: UserActivityLogger[];

  function newFeed(retention = { maxEntriesPerOwner: 1_000, maxAgeMs: HOUR }, activity = store.activity) {
    const feed = new UserActivityLogger(activity, secrets, log, retention);
    feeds.push(feed);
    return feed;
  }

  const messages = (entries: ActivityEntry[]) => entries.map((e) => e.message);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-activity-"));
    store = openSqliteStore(join(dir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
    secrets = new SecretRegistry();
    log = createSystemLogger({ level: "silent", redactor: secrets.system, destination: new PassThrough() });
    feeds = [];
  });

  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(feeds.map((feed) => feed.close()));
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("stores an entry with its time and gives it back, emitted for its owner", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: 1_800_000_000_000 });
    const feed = newFeed();
    const pushed: Array<[string, ActivityEntry]> = [];
    feed.on("entry", (owner, entry) => pushed.push([owner, entry]));
    const entry = await feed.record({
      owner: "alice",
      level: "warning",
      action: "container.exited",
      containerId: "C1",
      containerName: "web",
      message: "'web' stopped unexpectedly (exit code 3)",
      details: { exitCode: 3 },
    });
    expect(entry).toEqual({
      id: expect.any(Number),
      ts: 1_800_000_000_000,
      level: "warning",
      action: "container.exited",
      containerId: "C1",
      containerName: "web",
      message: "'web' stopped unexpectedly (exit code 3)",
      details: { exitCode: 3 },
    });
    expect(pushed).toEqual([["alice", entry]]);
    expect(await feed.history({ owner: "alice", limit: 10 })).toEqual([entry]);
  });

  it("answers history as the store keeps it: an owner's entries and everyone's, after an id, the newest", async () => {
    const feed = newFeed();
    const a1 = await feed.record(draft("a1"));
    await feed.record({ ...draft("b1"), owner: "bob" });
    await feed.record({ ...draft("engine down"), owner: EVERYONE });
    await feed.record({ ...draft("a2"), containerId: "C2" });
    await feed.record(draft("a3"));
    expect(messages(await feed.history({ owner: "alice", afterId: a1?.id, limit: 10 }))).toEqual([
      "engine down",
      "a2",
      "a3",
    ]);
    expect(messages(await feed.history({ owner: "alice", containerId: "C2", limit: 10 }))).toEqual(["a2"]);
    expect(messages(await feed.history({ owner: "alice", newest: true, limit: 2 }))).toEqual(["a2", "a3"]);
    expect(messages(await feed.history({ owner: "bob", limit: 10 }))).toEqual(["b1", "engine down"]);
    expect(await feed.history({ owner: undefined, limit: 10 })).toHaveLength(5);
  });

  it("redacts an owner's entry with that owner's secrets only, and everyone's with the fixed rules alone", async () => {
    secrets.addEnvironment("alice", {}, { TOKEN: "alice-canary-1111" });
    secrets.addEnvironment("bob", {}, { TOKEN: "bob-canary-2222" });
    const feed = newFeed();
    await feed.record({
      ...draft("alice-canary-1111 and bob-canary-2222"),
      details: { said: "alice-canary-1111", password: "hunter2" },
    });
    await feed.record({ ...draft("alice-canary-1111, Bearer abcdefgh12345678"), owner: EVERYONE });
    const [own, everyone] = await feed.history({ owner: "alice", limit: 10 });
    // Another owner's secret is left: hiding it would tell alice what bob's secrets are.
    expect(own?.message).toBe("[REDACTED] and bob-canary-2222");
    expect(own?.details).toEqual({ said: "[REDACTED]", password: "[REDACTED]" });
    expect(everyone?.message).toBe("alice-canary-1111, Bearer [REDACTED]");
  });

  it("keeps no entry older than the retention's age, and at most its count per owner", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: 1_800_000_000_000 });
    const feed = newFeed({ maxEntriesPerOwner: 2, maxAgeMs: HOUR });
    await feed.record(draft("old"));
    await feed.record({ ...draft("old, bob's"), owner: "bob" });
    vi.setSystemTime(Date.now() + HOUR + 1);
    for (const m of ["a1", "a2", "a3"]) await feed.record(draft(m));
    await feed.record({ ...draft("b1"), owner: "bob" });
    await feed.prune();
    expect(messages(await feed.history({ owner: "alice", limit: 10 }))).toEqual(["a2", "a3"]);
    expect(messages(await feed.history({ owner: "bob", limit: 10 }))).toEqual(["b1"]);
  });

  it("prunes after the entries recorded before it have been stored", async () => {
    const feed = newFeed({ maxEntriesPerOwner: 1, maxAgeMs: HOUR });
    const recorded = ["a1", "a2", "a3"].map((m) => feed.record(draft(m)));
    await feed.prune();
    expect(messages(await feed.history({ owner: "alice", limit: 10 }))).toEqual(["a3"]);
    expect(await Promise.all(recorded)).toHaveLength(3);
  });

  it("applies the retention by itself every 500 entries", async () => {
    const feed = newFeed({ maxEntriesPerOwner: 10, maxAgeMs: HOUR });
    const recorded: Array<Promise<unknown>> = [];
    for (let i = 1; i <= 499; i++) recorded.push(feed.record(draft(`m${i}`)));
    await Promise.all(recorded);
    expect(await feed.history({ owner: "alice", limit: 1_000 })).toHaveLength(499);
    await feed.record(draft("m500"));
    const kept = await feed.history({ owner: "alice", limit: 1_000 });
    expect(messages(kept)).toEqual(Array.from({ length: 10 }, (_, i) => `m${491 + i}`));
  });

  it("answers a recording the store refused with nothing, and stores the ones after it", async () => {
    let refusals = 1;
    const flaky: ActivityStore = {
      insert: (d, ts) =>
        refusals-- > 0 ? Promise.reject(new Error("disk full")) : store.activity.insert(d, ts),
      history: (q) => store.activity.history(q),
      prune: (olderThan, keep) => store.activity.prune(olderThan, keep),
    };
    const feed = newFeed(undefined, flaky);
    const refused = feed.record(draft("lost"));
    const next = feed.record(draft("kept"));
    expect(await refused).toBeUndefined();
    expect((await next)?.message).toBe("kept");
    expect(messages(await feed.history({ owner: "alice", limit: 10 }))).toEqual(["kept"]);
  });

  it("waits on close for the entries being stored; closing twice is safe", async () => {
    const feed = newFeed();
    void feed.record(draft("a1"));
    void feed.record(draft("a2"));
    await feed.close();
    await feed.close();
    expect(messages(await store.activity.history({ owner: "alice", limit: 10 }))).toEqual(["a1", "a2"]);
  });
});
