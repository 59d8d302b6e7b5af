import { describe, expect, it } from "vitest";
import type { ActivityCursor } from "../src/activity/activity-cursor.ts";
import { type ActivitySnapshot, ActivityStore } from "../src/activity/activity-store.ts";
import { entry, FakeClient } from "./fake-client.ts";

/** A cursor in memory, as sessionStorage would keep it for the tab. */
function memoryCursor(start?: number): ActivityCursor & { value: number | undefined } {
  return {
    value: start,
    read() {
      return this.value;
    },
    write(id) {
      this.value = id;
    },
    clear() {
      this.value = undefined;
    },
  };
}

function until(store: ActivityStore, check: (s: ActivitySnapshot) => boolean): Promise<ActivitySnapshot> {
  if (check(store.snapshot)) return Promise.resolve(store.snapshot);
  return new Promise((resolve) => {
    const off = store.subscribe((s) => {
      if (check(s)) {
        off();
        resolve(s);
      }
    });
  });
}

const ids = (s: ActivitySnapshot) => s.entries.map((e) => e.id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function live(fake: FakeClient, cursor = memoryCursor(), keep?: number): Promise<ActivityStore> {
  const store = new ActivityStore(fake.asClient, { cursor, ...(keep === undefined ? {} : { keep }) });
  store.start();
  await until(store, (s) => s.status === "live");
  return store;
}

describe("the activity page's feed", () => {
  it("shows the newest entries, then each pushed one, newest first, and remembers the newest shown", async () => {
    const fake = new FakeClient();
    for (const id of [1, 2, 3]) fake.write(entry(id), false);
    const cursor = memoryCursor();
    const store = await live(fake, cursor);
    expect(ids(store.snapshot)).toEqual([3, 2, 1]);
    expect(cursor.value).toBe(3);

    fake.write(entry(4));
    expect(ids(store.snapshot)).toEqual([4, 3, 2, 1]);
    expect(cursor.value).toBe(4);
    store.close();
  });

  it("after a reload, reads everything written since the newest entry the tab showed, beyond the newest few", async () => {
    const fake = new FakeClient();
    // The tab had shown up to 10; 120 more were written while it reloaded: more than the newest 50 it reads.
    for (const id of range(1, 130)) fake.write(entry(id), false);
    const store = await live(fake, memoryCursor(10));
    expect(ids(store.snapshot)).toEqual(range(11, 130).reverse());
    expect(fake.historyAsks).toContainEqual(expect.objectContaining({ afterId: 10 }));
    store.close();
  });

  it("shows an entry that comes both pushed and read in a catch-up once", async () => {
    const fake = new FakeClient();
    for (const id of [1, 2]) fake.write(entry(id), false);
    const store = new ActivityStore(fake.asClient, { cursor: memoryCursor(1) });
    store.start();
    fake.write(entry(3)); // pushed while the first reads are on their way, and read by them too
    const s = await until(store, (x) => x.status === "live");
    expect(ids(s)).toEqual([3, 2, 1]);
    fake.pushActivity(entry(3));
    expect(ids(store.snapshot)).toEqual([3, 2, 1]);
    store.close();
  });

  it("catches up after a reconnect with what was written while the connection was down, each once", async () => {
    const fake = new FakeClient();
    fake.write(entry(1), false);
    const cursor = memoryCursor();
    const store = await live(fake, cursor);

    fake.connected = false;
    fake.emit("connection", "reconnecting");
    expect(store.snapshot.status).toBe("reconnecting");
    for (const id of [2, 3, 4]) fake.write(entry(id), false); // lost pushes
    fake.connected = true;
    fake.emit("connection", "connected");
    fake.pushActivity(entry(3)); // the client SDK replays some of them too
    const s = await until(store, (x) => x.status === "live");
    expect(ids(s)).toEqual([4, 3, 2, 1]);
    expect(cursor.value).toBe(4);
    expect(fake.historyAsks.at(-1)).toMatchObject({ afterId: 1 });
    store.close();
  });

  it("does not move the remembered place past a gap it has not read yet", async () => {
    const fake = new FakeClient();
    fake.write(entry(1), false);
    const cursor = memoryCursor();
    const store = await live(fake, cursor);
    fake.connected = false;
    fake.emit("connection", "reconnecting");
    fake.write(entry(2), false);
    fake.write(entry(3)); // a push seen before the catch-up of 2
    expect(cursor.value).toBe(1);
    fake.connected = true;
    fake.emit("connection", "connected");
    await until(store, (x) => x.status === "live");
    expect(cursor.value).toBe(3);
    store.close();
  });

  it("keeps the newest `keep` entries only, after a long gap too", async () => {
    const fake = new FakeClient();
    for (const id of range(1, 40)) fake.write(entry(id), false);
    const store = await live(fake, memoryCursor(0), 25);
    expect(ids(store.snapshot)).toEqual(range(16, 40).reverse());
    store.close();
  });

  it("waits for the connection when the first read finds none, then reads", async () => {
    const fake = new FakeClient();
    fake.write(entry(1), false);
    fake.connected = false;
    const store = new ActivityStore(fake.asClient, { cursor: memoryCursor() });
    store.start();
    await until(store, (s) => s.status === "reconnecting");
    fake.connected = true;
    fake.emit("connection", "connected");
    expect(ids(await until(store, (s) => s.status === "live"))).toEqual([1]);
    store.close();
  });

  it("stops listening on close, and a second close does nothing", async () => {
    const fake = new FakeClient();
    const store = await live(fake);
    expect(fake.listenerCount()).toBeGreaterThan(0);
    store.close();
    store.close();
    expect(fake.listenerCount()).toBe(0);
  });
});
