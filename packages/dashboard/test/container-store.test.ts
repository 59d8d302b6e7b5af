import type { ContainerInfo } from "@berth/client";
import { describe, expect, it } from "vitest";
import { ContainerStore, type StoreOptions, type StoreSnapshot } from "../src/containers/container-store.ts";
import { FakeClient, info } from "./fake-client.ts";

/** Resolves with the first snapshot that `check` accepts (the current one included). */
function until(store: ContainerStore, check: (s: StoreSnapshot) => boolean): Promise<StoreSnapshot> {
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

const stateOf = (s: StoreSnapshot, name: string) => s.rows.find((r) => r.info.name === name)?.info.state;
const names = (s: StoreSnapshot) => s.rows.map((r) => r.info.name).sort();

async function started(fake: FakeClient, options: StoreOptions = {}): Promise<ContainerStore> {
  const store = new ContainerStore(fake.asClient, options);
  store.start();
  await until(store, (s) => s.status === "ready");
  return store;
}

const status = (name: string, to: string) => ({
  id: `id-${name}`,
  name,
  from: "running",
  to,
  health: "none",
  reason: "test",
  ts: 0,
});

const usage = {
  cpuPercent: 12,
  memoryBytes: 1024,
  memoryLimitBytes: 4096,
  pids: 3,
  netRxBytes: 0,
  netTxBytes: 0,
  blockReadBytes: 0,
  blockWriteBytes: 0,
  ts: 1,
};

describe("the overview's live store of containers", () => {
  it("lists the caller's containers, then patches a row from a pushed status without listing again", async () => {
    const fake = new FakeClient();
    fake.listed = [info("web"), info("api")];
    const store = await started(fake);
    expect(names(store.snapshot)).toEqual(["api", "web"]);

    fake.emit("container:status_changed", status("web", "stopping"));
    expect(stateOf(store.snapshot, "web")).toBe("stopping");
    fake.statusAsks.shift()!.answer(info("web", { state: "stopping" }));
    expect(fake.listCalls).toBe(1);
    store.close();
  });

  it("adds a container it did not list once berth pushes its status, with the info it then asks for", async () => {
    const fake = new FakeClient();
    const store = await started(fake);
    fake.emit("container:status_changed", status("new", "running"));
    expect(store.snapshot.rows).toEqual([]);
    fake.statusAsks.shift()!.answer(info("new", { startedAt: 5_000 }));
    const s = await until(store, (x) => x.rows.length === 1);
    expect(s.rows[0]!.info).toMatchObject({ name: "new", state: "running", startedAt: 5_000 });
    store.close();
  });

  it("keeps the newest state when the answer for an older status comes last", async () => {
    const fake = new FakeClient();
    fake.listed = [info("web")];
    const store = await started(fake);
    fake.emit("container:status_changed", status("web", "stopping"));
    fake.emit("container:status_changed", status("web", "stopped"));
    const [older, newer] = fake.statusAsks.splice(0);
    newer!.answer(info("web", { state: "stopped" }));
    await until(store, (s) => stateOf(s, "web") === "stopped");
    older!.answer(info("web", { state: "stopping" }));
    await new Promise((r) => setTimeout(r, 0)); // the stale answer's turn, which must change nothing
    expect(stateOf(store.snapshot, "web")).toBe("stopped");
    store.close();
  });

  it("drops a container the feed says was deleted, or whose status answers NOT_FOUND", async () => {
    const fake = new FakeClient();
    fake.listed = [info("a"), info("b")];
    const store = await started(fake);
    fake.emit("activity_log", {
      id: 1,
      ts: 0,
      level: "info",
      action: "container.deleted",
      containerId: "id-a",
      message: "",
    });
    expect(names(store.snapshot)).toEqual(["b"]);
    fake.emit("container:status_changed", status("b", "removing"));
    fake.statusAsks.shift()!.answer("not-found");
    await until(store, (s) => s.rows.length === 0);
    store.close();
  });

  it("takes each running container's usage from the overview's ticks, and forgets it once the container stops", async () => {
    const fake = new FakeClient();
    fake.listed = [info("web")];
    const store = await started(fake);
    const sample = {
      cpuPercent: 12,
      memoryBytes: 1024,
      memoryLimitBytes: 4096,
      pids: 3,
      netRxBytes: 0,
      netTxBytes: 0,
      blockReadBytes: 0,
      blockWriteBytes: 0,
      ts: 1,
    };
    fake.tick({
      ts: 1,
      samples: [
        { id: "id-web", ...sample },
        { id: "id-unknown", ...sample },
      ],
    });
    const s = await until(store, (x) => x.rows[0]?.usage !== undefined);
    expect(s.rows[0]!.usage).toEqual(sample);
    expect(s.rows[0]!.history).toBeUndefined(); // kept only when asked for (the overview's sparklines)
    expect(s.rows).toHaveLength(1);

    fake.emit("container:status_changed", status("web", "exited"));
    expect(store.snapshot.rows[0]!.usage).toBeUndefined();
    store.close();
  });

  it("seeds each running row's history from berth's kept samples, then adds each tick, and drops it when the row stops", async () => {
    const fake = new FakeClient();
    fake.listed = [info("web"), info("idle", { state: "stopped", startedAt: null })];
    const kept = (ts: number) => ({ ...usage, ts });
    fake.history = {
      intervalMs: 5_000,
      containers: [
        { id: "id-web", samples: [kept(1_000), kept(6_000)] },
        { id: "id-idle", samples: [kept(1_000)] },
      ],
    };
    const store = await started(fake, { history: true });
    let s = await until(store, (x) => x.rows.some((r) => r.history !== undefined));
    const web = () => s.rows.find((r) => r.info.name === "web")!;
    expect(web().history?.map((h) => h.ts)).toEqual([1_000, 6_000]);
    expect(s.rows.find((r) => r.info.name === "idle")!.history).toBeUndefined();

    fake.tick({ ts: 8_000, samples: [{ id: "id-web", ...kept(8_000) }] });
    s = await until(store, (x) => x.rows.some((r) => r.history?.length === 3));
    expect(web().history?.map((h) => h.ts)).toEqual([1_000, 6_000, 8_000]);

    fake.emit("container:status_changed", { ...status("web", "exited"), startedAt: null, restartCount: 2 });
    expect(store.snapshot.rows.find((r) => r.info.name === "web")).toMatchObject({
      info: { state: "exited", startedAt: null, restartCount: 2 },
    });
    expect(store.snapshot.rows.find((r) => r.info.name === "web")!.history).toBeUndefined();
    store.close();
  });

  it("refreshes a row after a status push with a plain status, never the spec, and keeps no spec were one sent", async () => {
    const fake = new FakeClient();
    fake.listed = [info("web")];
    const store = await started(fake);
    await until(store, (x) => x.rows.length === 1);
    fake.emit("container:status_changed", status("web", "exited"));
    const [ask] = fake.statusAsks;
    expect(ask?.payload).toEqual({ id: "id-web" });
    const spec = { env: { BIG: "x".repeat(1_000) }, secretEnvKeys: [], resources: {} };
    // restartCount 7: the answer's, so that the wait ends once the answer is in the row.
    ask?.answer({ ...info("web", { state: "exited", restartCount: 7 }), spec } as ContainerInfo);
    const s = await until(store, (x) => x.rows[0]?.info.restartCount === 7);
    expect(store.snapshot.rows[0]!.info).not.toHaveProperty("spec");
    expect(JSON.stringify(s.rows)).not.toContain("x".repeat(100));
    store.close();
  });

  it("reads the list again after a reconnect, since pushes sent meanwhile were lost", async () => {
    const fake = new FakeClient();
    fake.listed = [info("a"), info("b")];
    const store = await started(fake);
    fake.emit("connection", "reconnecting");
    expect(store.snapshot.status).toBe("reconnecting");
    fake.listed = [info("b", { state: "exited" }), info("c")];
    fake.emit("connection", "connected");
    const s = await until(store, (x) => x.status === "ready");
    expect(names(s)).toEqual(["b", "c"]);
    expect(stateOf(s, "b")).toBe("exited");
    store.close();
  });

  it("stops listening and watching on close, and a second close does nothing", async () => {
    const fake = new FakeClient();
    const store = await started(fake);
    expect(fake.listenerCount()).toBeGreaterThan(0);
    store.close();
    store.close();
    expect(fake.listenerCount()).toBe(0);
    expect(fake.statsWatched).toBe(false);
  });
});
