import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { WorkloadError } from "../channel/channel-errors.ts";
import { NotFoundError, ValidationError } from "../errors/errors.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { type ContainerChangeEvents, ContainerOwners } from "./container-owners.ts";

const ALICE = { owner: "alice", admin: false };
const BOB = { owner: "bob", admin: false };
const ADMIN = { owner: "admin", admin: true };
const C1 = "C0000000000A";
const C2 = "C0000000000B";

/** One store's rows, read as the store port reads them, counting reads; `hold()` keeps the next reads' answers back. */
function fakeStore() {
  const rows = new Map<string, Pick<ContainerRecord, "id" | "owner" | "name">>([
    [C1, { id: C1, owner: "alice", name: "bot" }],
  ]);
  let reads = 0;
  let failing = false;
  let gate: Promise<void> | undefined;
  const answer = async <T>(read: () => T): Promise<T> => {
    reads++;
    if (failing) throw new Error("the store is away");
    const found = read(); // read at once, answered later: a snapshot the notice may overtake
    await gate;
    return found;
  };
  const repo = {
    get: (id: string) => answer(() => rows.get(id) as ContainerRecord | undefined),
    getByName: (owner: string, name: string) =>
      answer(() => [...rows.values()].find((r) => r.owner === owner && r.name === name) as ContainerRecord),
    findByName: (name: string) =>
      answer(() => [...rows.values()].filter((r) => r.name === name) as ContainerRecord[]),
  };
  return {
    repo,
    rows,
    reads: () => reads,
    fail: (now: boolean) => {
      failing = now;
    },
    hold: () => {
      let open!: () => void;
      gate = new Promise((r) => {
        open = r;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

/** An API server's cache, over the shared store, hearing that store's notices (already listening unless told). */
function server(store: ReturnType<typeof fakeStore>, listening = true) {
  const notices = new EventEmitter<ContainerChangeEvents>();
  const owners = new ContainerOwners(store.repo, notices);
  if (listening) notices.emit("reset", true);
  return { owners, notices };
}

describe("ContainerOwners", () => {
  it("reads the store at every lookup while the store's notices are not heard (SQLite, or a connection being made)", async () => {
    const store = fakeStore();
    const sqlite = new ContainerOwners(store.repo);
    expect(await sqlite.find(ALICE, C1)).toEqual({ id: C1, remembered: false });
    expect(await sqlite.find(ALICE, "bot")).toEqual({ id: C1, remembered: false });
    expect(await sqlite.find(ALICE, C1)).toEqual({ id: C1, remembered: false });
    expect(store.reads()).toBe(3);
    expect(sqlite.size).toBe(0);
  });

  it("answers an owner's own container from memory once read, by id and by name", async () => {
    const store = fakeStore();
    const { owners } = server(store);
    expect(await owners.find(ALICE, C1)).toEqual({ id: C1, remembered: false });
    expect(await owners.find(ALICE, C1)).toEqual({ id: C1, remembered: true });
    expect(await owners.find(ALICE, "bot")).toEqual({ id: C1, remembered: true });
    expect(await owners.find(ADMIN, C1)).toEqual({ id: C1, remembered: true });
    expect(store.reads()).toBe(1);
  });

  it("reads the store for another owner's container, as for one that does not exist: NOT_FOUND, at the same cost", async () => {
    const store = fakeStore();
    const { owners } = server(store);
    await owners.find(ALICE, C1);
    const before = store.reads();
    await expect(owners.find(BOB, C1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(owners.find(BOB, C2)).rejects.toBeInstanceOf(NotFoundError);
    // Bob's own name "bot" is his, not alice's.
    await expect(owners.find(BOB, "bot")).rejects.toBeInstanceOf(NotFoundError);
    expect(store.reads() - before).toBe(3);
    // Nothing is kept of what does not exist: an id nobody has would never be told gone.
    expect(owners.size).toBe(1);
  });

  it("looks the admin's names up in the store every time: a name several owners use needs the id", async () => {
    const store = fakeStore();
    store.rows.set(C2, { id: C2, owner: "bob", name: "bot" });
    const { owners } = server(store);
    await owners.find(ALICE, "bot");
    await expect(owners.find(ADMIN, "bot")).rejects.toBeInstanceOf(ValidationError);
    expect(await owners.find(BOB, "bot")).toEqual({ id: C2, remembered: false });
    expect(await owners.find(BOB, "bot")).toEqual({ id: C2, remembered: true });
  });

  it("forgets a container deleted on another server the moment the store's notice reaches this one", async () => {
    const store = fakeStore();
    const [one, two] = [server(store), server(store)];
    await one.owners.find(ALICE, C1);
    await two.owners.find(ALICE, "bot");
    // Server one deletes it: the row goes, and the store tells every server.
    store.rows.delete(C1);
    one.owners.forget(C1);
    two.notices.emit("changed", C1);
    await expect(two.owners.find(ALICE, C1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(two.owners.find(ALICE, "bot")).rejects.toBeInstanceOf(NotFoundError);
    await expect(one.owners.find(ALICE, C1)).rejects.toBeInstanceOf(NotFoundError);
    expect([one.owners.size, two.owners.size]).toEqual([0, 0]);
  });

  it("keeps nothing a read brought back after a notice of its container came while it read", async () => {
    const store = fakeStore();
    const { owners, notices } = server(store);
    const open = store.hold();
    const byId = owners.find(ALICE, C1); // reads the row ...
    const byName = owners.find(ALICE, "bot");
    store.rows.delete(C1); // ... then another server deletes it, and the notice comes before the answer
    notices.emit("changed", C1);
    open();
    expect(await byId).toEqual({ id: C1, remembered: false });
    expect(await byName).toEqual({ id: C1, remembered: false });
    expect(owners.size).toBe(0);
    await expect(owners.find(ALICE, C1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(owners.find(ALICE, "bot")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("keeps a read that only another container's notice crossed", async () => {
    const store = fakeStore();
    const { owners, notices } = server(store);
    const open = store.hold();
    const reading = owners.find(ALICE, C1);
    notices.emit("changed", C2);
    open();
    await reading;
    expect(await owners.find(ALICE, C1)).toEqual({ id: C1, remembered: true });
  });

  it("forgets everything at a reset, reads the store until the notices are heard again, and keeps no read that spans a reset", async () => {
    const store = fakeStore();
    const { owners, notices } = server(store);
    await owners.find(ALICE, C1);
    notices.emit("reset", false);
    expect(await owners.find(ALICE, C1)).toEqual({ id: C1, remembered: false });
    expect(await owners.find(ALICE, C1)).toEqual({ id: C1, remembered: false });
    const open = store.hold();
    const across = owners.find(ALICE, C1); // begins deaf, ends after listening again: it may have missed a delete
    notices.emit("reset", true);
    open();
    await across;
    expect(owners.size).toBe(0);
    expect(await owners.find(ALICE, C1)).toEqual({ id: C1, remembered: false });
    expect(await owners.find(ALICE, C1)).toEqual({ id: C1, remembered: true });
  });

  it("keeps nothing a read brought back once the notices noted during reads overflowed (bounded notes)", async () => {
    const store = fakeStore();
    const { owners, notices } = server(store);
    const open = store.hold();
    const reading = owners.find(ALICE, C1);
    // Its container deleted meanwhile, and its notice followed by ten thousand others, which drop the notes.
    store.rows.delete(C1);
    notices.emit("changed", C1);
    for (let i = 0; i < 10_000; i++) notices.emit("changed", `C${String(i).padStart(11, "0")}`);
    open();
    await reading;
    expect(owners.size).toBe(0);
    await expect(owners.find(ALICE, C1)).rejects.toBeInstanceOf(NotFoundError);
  });

  describe("reach", () => {
    it("passes a call's failure on as it is when the store answered who owns the container", async () => {
      const store = fakeStore();
      const { owners } = server(store, false);
      const refused = new Error("CHANNEL_NOT_CONNECTED");
      await expect(owners.reach(ALICE, C1, () => Promise.reject(refused))).rejects.toBe(refused);
      expect(store.reads()).toBe(1);
    });

    it("answers NOT_FOUND when memory answered, the call failed, and the store says the container is gone", async () => {
      const store = fakeStore();
      const { owners } = server(store);
      await owners.find(ALICE, C1);
      // Deleted on another server, its notice still on its way: memory still has it, its channel is gone.
      store.rows.delete(C1);
      await expect(
        owners.reach(ALICE, C1, () => Promise.reject(new Error("CHANNEL_NOT_CONNECTED"))),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect(owners.size).toBe(0);
    });

    it("passes the call's own failure on when the container is still there, or the store cannot say", async () => {
      const store = fakeStore();
      const { owners } = server(store);
      await owners.find(ALICE, C1);
      const timedOut = new Error("CHANNEL_TIMEOUT");
      await expect(owners.reach(ALICE, C1, () => Promise.reject(timedOut))).rejects.toBe(timedOut);
      store.fail(true);
      await expect(owners.reach(ALICE, C1, () => Promise.reject(timedOut))).rejects.toBe(timedOut);
    });

    it("passes the workload's own error on without asking the store: the workload was there to answer", async () => {
      const store = fakeStore();
      const { owners } = server(store);
      await owners.find(ALICE, C1);
      const before = store.reads();
      const answered = new WorkloadError({ message: "no such user" });
      await expect(owners.reach(ALICE, C1, () => Promise.reject(answered))).rejects.toBe(answered);
      expect(store.reads()).toBe(before);
    });

    it("answers the call from memory, without the store", async () => {
      const store = fakeStore();
      const { owners } = server(store);
      await owners.find(ALICE, C1);
      store.fail(true);
      expect(await owners.reach(ALICE, "bot", async (id) => `answered by ${id}`)).toBe(`answered by ${C1}`);
    });
  });
});
