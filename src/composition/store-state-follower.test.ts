import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ChangeNoticesEvents } from "../cluster/pg-change-notices.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { StoreStateFollower } from "./store-state-follower.ts";

const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});

/** Rows by id; a read of `slow` waits until `release()`. */
function fakeStore() {
  const rows = new Map<string, { id: string; state: "running" | "stopped" }>();
  let release = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  let slow: string | undefined;
  return {
    rows,
    release,
    hold: (id: string) => {
      slow = id;
    },
    repo: {
      get: async (id: string) => {
        const row = rows.get(id);
        if (id === slow) await held;
        return row as never;
      },
      all: async () => [...rows.values()] as never,
    },
  };
}

describe("StoreStateFollower", () => {
  it("follows each change in the order the notices came, even when an earlier read is slower", async () => {
    const notices = new EventEmitter<ChangeNoticesEvents>();
    const store = fakeStore();
    const told: string[] = [];
    const follower = new StoreStateFollower({
      notices,
      repo: store.repo,
      follow: (info) => told.push(`${info.id}:${info.state}`),
      log,
    });
    store.rows.set("A", { id: "A", state: "running" });
    store.rows.set("B", { id: "B", state: "stopped" });
    store.hold("A");
    notices.emit("changed", "A");
    notices.emit("changed", "B");
    notices.emit("changed", "C"); // no row: gone
    await new Promise((r) => setTimeout(r, 20));
    expect(told).toEqual([]);
    store.release();
    await follower.settled();
    expect(told).toEqual(["A:running", "B:stopped", "C:removing"]);
    await follower.close();
  });

  it("reads every row when listening again after a gap, and nothing when the gap begins", async () => {
    const notices = new EventEmitter<ChangeNoticesEvents>();
    const store = fakeStore();
    const told: string[] = [];
    const follower = new StoreStateFollower({
      notices,
      repo: store.repo,
      follow: (i) => told.push(i.id),
      log,
    });
    store.rows.set("A", { id: "A", state: "running" });
    store.rows.set("B", { id: "B", state: "running" });
    notices.emit("reset", false);
    await follower.settled();
    expect(told).toEqual([]);
    notices.emit("reset", true);
    await follower.settled();
    expect(told).toEqual(["A", "B"]);
    await follower.close();
    notices.emit("changed", "A");
    await follower.settled();
    expect(told).toEqual(["A", "B"]);
    expect(notices.listenerCount("changed")).toBe(0);
  });
});
