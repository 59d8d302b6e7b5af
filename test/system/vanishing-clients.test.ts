import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { BerthDebugCounts } from "../../src/berth.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { agreeing, holdings } from "../helpers/instance-holdings.ts";
import { reportReliability } from "../helpers/reliability-report.ts";
import {
  type Client,
  call,
  docker,
  echoCode,
  ok,
  type RawClient,
  TOKENS,
  tickingCode,
  useTestServer,
} from "../helpers/test-server.ts";

/**
 * A client that goes away in the middle of an operation — its network gone
 * (the transport closed under it, as a dropped Wi-Fi does) or its process
 * leaving politely (`disconnect()`) — never leaves berth half-done: the
 * operation finishes or is undone (store, engine and disk agree), and
 * nothing it held stays behind (connections, subscriptions, listeners,
 * in-flight calls, operations, timers).
 */

type Vanish = (client: RawClient) => void;
const VANISHES: [string, Vanish][] = [
  ["its transport drops", (client) => client.io.engine.close()],
  ["it disconnects", (client) => client.disconnect()],
];

/** The echo workload, saying hello on its channel only after `ms`: a create or an update that waits for it is slow. */
async function slowReadyCode(ms: number): Promise<{ files: Record<string, string> }> {
  const echo = (await echoCode()).files["index.js"] ?? "";
  return { files: { "index.js": `setTimeout(() => require("./echo.js"), ${ms});\n`, "echo.js": echo } };
}

/** A workload answering every request `{ delayMs }` after that many ms. */
const DELAYED_ANSWER = `const net = require("node:net");
function connect() {
  const socket = net.connect(process.env.BERTH_SOCKET);
  const send = (f) => socket.write(JSON.stringify(f) + "\\n");
  let buffer = "";
  socket.on("connect", () => send({ type: "hello", protocol: 1 }));
  socket.on("data", (chunk) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\\n"); nl !== -1; nl = buffer.indexOf("\\n")) {
      const f = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      if (f.type === "ping") send({ type: "pong", id: f.id });
      if (f.type === "request") setTimeout(() => send({ type: "response", id: f.id, data: "late" }), f.data?.delayMs ?? 0);
    }
  });
  socket.on("error", () => {});
  socket.on("close", () => setTimeout(connect, 200));
}
connect();
process.on("SIGTERM", () => process.exit(0));
`;

/** Timers alive in this process (berth's and the test's; the test's own are the same before and after). */
function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("clients that vanish mid-operation", () => {
  const server = useTestServer();

  afterAll(() =>
    reportReliability(import.meta.filename, {
      id: "vanishing-clients",
      test: "Clients that vanish mid-operation",
      did: `${VANISHES.length} ways of vanishing (the transport closed under the client; a plain disconnect) × creates waiting for a workload, a create just sent, 20 creates with a restart, stop and delete, an update on a slow workload, an update failing its gate, a request answered late, a log follow, a stats watch; and ten clients holding all of these at once`,
      measured:
        "each operation finished or undone; a request to a workload cancelled on the disconnect rather than held until its answer",
      invariants:
        "rows, engine containers, code and socket directories agree; berth's connections, follows, watches, emitter listeners, workload calls and operations under way, the process's timers and the berth_connected_clients gauge back to their idle values",
    }),
  );

  // A failed test leaves nothing for the next one to count.
  afterEach(async () => {
    const cleaner = await server.connect("alice");
    const { items } = await ok(cleaner, "container:list", { limit: 500 });
    for (const c of items) await call(cleaner, "container:delete", { id: c.id });
    void cleaner.close();
  });

  /** What berth holds when nobody but `observer` is connected and nothing runs. */
  interface Baseline {
    counts: BerthDebugCounts;
    timers: number;
    clientsGauge: number;
  }

  async function connectedClientsGauge(): Promise<number> {
    const res = await fetch(`${server.url}/metrics`, {
      headers: { authorization: `Bearer ${TOKENS.admin}` },
    });
    const text = await res.text();
    const line = text.split("\n").find((l) => l.startsWith("berth_connected_clients "));
    if (!line) throw new Error("no berth_connected_clients gauge");
    return Number(line.split(" ")[1]);
  }

  async function baseline(): Promise<Baseline> {
    const counts = server.berth.debugCounts();
    expect(counts).toMatchObject({ subscriptions: 0, workloadCallsInFlight: 0, operationsUnderWay: 0 });
    return { counts, timers: timers(), clientsGauge: await connectedClientsGauge() };
  }

  /** Waits until berth is back at `before`: every count equal, no more timers than then. */
  async function backTo(before: Baseline): Promise<void> {
    await eventually(15_000, "berth's counts back to their idle values", () => {
      const now = server.berth.debugCounts();
      return JSON.stringify(now) === JSON.stringify(before.counts) || JSON.stringify(now);
    });
    await eventually(15_000, "the timers back to their idle count", () => {
      const now = timers();
      return now <= before.timers || `${now} timers, ${before.timers} before`;
    });
    expect(await connectedClientsGauge()).toBe(before.clientsGauge);
  }

  /** Waits until berth has an operation (a lifecycle step, or a call to a workload) under way. */
  async function underWay(what: keyof BerthDebugCounts): Promise<void> {
    await eventually(15_000, `${what} under way`, () => server.berth.debugCounts()[what] > 0, 5);
  }

  async function idOf(observer: Client, name: string): Promise<string | undefined> {
    const { items } = await ok(observer, "container:list", { limit: 500 });
    return items.find((c) => c.name === name)?.id;
  }

  /** Deletes `ids` as their owner, then checks that nothing of them is left anywhere. */
  async function deleteAndCheck(observer: Client, ...ids: string[]): Promise<void> {
    for (const id of ids) await ok(observer, "container:delete", { id });
    expect(await holdings(server, observer, docker)).toEqual(agreeing([]));
  }

  it("many clients holding follows, watches and a request each, all gone at once: every one let go", async () => {
    const observer = await server.connect("alice");
    const before = await baseline();
    const ticking = await ok(observer, "container:create", {
      name: "vanish-many-logs",
      code: await tickingCode(),
    });
    const slow = await ok(observer, "container:create", {
      name: "vanish-many-slow",
      code: { files: { "index.js": DELAYED_ANSWER } },
    });
    const clients: RawClient[] = [];
    for (let i = 0; i < 10; i++) {
      const raw = await server.connectRaw("alice");
      clients.push(raw);
      await ok(raw, "container:follow_logs", { id: ticking.id });
      await ok(raw, "container:watch_stats", { id: slow.id, intervalMs: 250 });
      await ok(raw, "containers:watch_stats", { intervalMs: 250 });
      raw.emit("container:request", { id: slow.id, data: { delayMs: 20_000 }, timeoutMs: 30_000 }, () => {});
    }
    await eventually(
      10_000,
      "every request sent",
      () => server.berth.debugCounts().workloadCallsInFlight === 10,
    );
    const holding = server.berth.debugCounts();
    expect(holding.connections).toBe(before.counts.connections + 10);
    expect(holding.subscriptions).toBeGreaterThanOrEqual(20);
    for (const [i, raw] of clients.entries()) (VANISHES[i % VANISHES.length] as [string, Vanish])[1](raw);

    // Well before the workload answers (20 s): nobody is left to receive those answers. (Not much sooner
    // than that: a loaded machine may take seconds to notice every way of vanishing.)
    await eventually(15_000, "every follow, watch and call let go", () => {
      const now = server.berth.debugCounts();
      return (now.subscriptions === 0 && now.workloadCallsInFlight === 0) || JSON.stringify(now);
    });
    await deleteAndCheck(observer, ticking.id, slow.id);
    await backTo(before);
    void observer.close();
  });

  for (const [how, vanish] of VANISHES) {
    describe(`when ${how}`, () => {
      it("during a create that waits for its workload: the container is made and runs, or nothing of it is left", async () => {
        const observer = await server.connect("alice");
        const before = await baseline();
        const raw = await server.connectRaw("alice");
        const name = `vanish-create-${how.length}`;
        raw.emit(
          "container:create",
          { name, code: await slowReadyCode(1500), waitReady: true, progress: { opId: "vanish-create" } },
          () => {},
        );
        await underWay("operationsUnderWay");
        vanish(raw);

        await eventually(
          30_000,
          "the create settled",
          () => server.berth.debugCounts().operationsUnderWay === 0,
        );
        const id = await idOf(observer, name);
        const held = await holdings(server, observer, docker);
        expect(held).toEqual(agreeing(id ? [id] : []));
        if (id) {
          const info = await ok(observer, "container:status", { id });
          expect(info.state).toBe("running");
          await deleteAndCheck(observer, id);
        }
        await backTo(before);
        void observer.close();
      });

      it("right after sending a create, before berth has begun it: the same, either way", async () => {
        const observer = await server.connect("alice");
        const before = await baseline();
        const raw = await server.connectRaw("alice");
        const name = `vanish-sent-${how.length}`;
        raw.emit(
          "container:create",
          { name, code: await echoCode(), progress: { opId: "vanish-sent" } },
          () => {},
        );
        vanish(raw);

        // Whether berth got the event first or not, it settles: wait for the connection to be gone and work done.
        await eventually(30_000, "the connection gone and the create settled", () => {
          const now = server.berth.debugCounts();
          return now.connections === before.counts.connections && now.operationsUnderWay === 0;
        });
        const id = await idOf(observer, name);
        expect(await holdings(server, observer, docker)).toEqual(agreeing(id ? [id] : []));
        if (id) {
          expect((await ok(observer, "container:status", { id })).state).toBe("running");
          await deleteAndCheck(observer, id);
        }
        await backTo(before);
        void observer.close();
      });

      it("during twenty creates and a restart, stop and delete of others at once: each finished or undone, all agreeing", async () => {
        const observer = await server.connect("alice");
        const before = await baseline();
        const others = await Promise.all(
          [0, 1, 2].map(
            async (i) =>
              (
                await ok(observer, "container:create", {
                  name: `vanish-other-${how.length}-${i}`,
                  code: await echoCode(),
                })
              ).id,
          ),
        );
        const raw = await server.connectRaw("alice");
        const code = await slowReadyCode(500);
        // The restart, stop and delete are sent last: once berth has begun all three (their owner hears it),
        // every event before them has reached it too. Vanishing before that could drop the last ones on the
        // wire, and a stop berth never received cannot be expected done.
        const begun = (id: string, to: readonly string[]) =>
          new Promise<void>((resolve) => {
            const off = observer.on("container:status_changed", (e) => {
              if (e.id !== id || !to.includes(e.to)) return;
              off();
              resolve();
            });
          });
        const allBegun = Promise.all([
          begun(others[0] as string, ["restarting"]),
          begun(others[1] as string, ["stopping", "stopped"]),
          begun(others[2] as string, ["removing"]),
        ]);
        for (let i = 0; i < 20; i++)
          raw.emit(
            "container:create",
            { name: `vanish-burst-${how.length}-${i}`, code, waitReady: true },
            () => {},
          );
        raw.emit("container:restart", { id: others[0] as string, waitReady: true }, () => {});
        raw.emit("container:stop", { id: others[1] as string }, () => {});
        raw.emit("container:delete", { id: others[2] as string }, () => {});
        await within(15_000, "the restart, stop and delete begun, and so every create received", allBegun);
        expect(server.berth.debugCounts().operationsUnderWay).toBeGreaterThanOrEqual(3);
        vanish(raw);

        await eventually(
          60_000,
          "the burst settled",
          () => server.berth.debugCounts().operationsUnderWay === 0,
        );
        const { items } = await ok(observer, "container:list", { limit: 500 });
        expect(await holdings(server, observer, docker)).toEqual(agreeing(items.map((c) => c.id)));
        // Every container left is in a steady state, and the engine says the same.
        for (const c of items) {
          const inspected = await docker
            .getContainer(`berth-${c.id}`)
            .inspect()
            .catch(() => undefined);
          const engineState = inspected?.State.Running ? "running" : "not running";
          expect({ id: c.id, state: c.state, engineState }).toEqual({
            id: c.id,
            state: c.id === others[1] ? "stopped" : "running",
            engineState: c.id === others[1] ? "not running" : "running",
          });
        }
        await deleteAndCheck(observer, ...items.map((c) => c.id));
        await backTo(before);
        void observer.close();
      });

      it("during an update that waits for a slow workload: the container runs on one release, the same everywhere", async () => {
        const observer = await server.connect("alice");
        const before = await baseline();
        const created = await ok(observer, "container:create", {
          name: `vanish-update-${how.length}`,
          code: await echoCode(),
        });
        const raw = await server.connectRaw("alice");
        raw.emit(
          "container:update",
          { id: created.id, code: await slowReadyCode(1500), progress: { opId: "vanish-update" } },
          () => {},
        );
        await underWay("operationsUnderWay");
        vanish(raw);

        await eventually(
          30_000,
          "the update settled",
          () => server.berth.debugCounts().operationsUnderWay === 0,
        );
        const info = await ok(observer, "container:status", { id: created.id });
        expect(info.state).toBe("running");
        const { items } = await ok(observer, "container:releases", { id: created.id });
        expect(items.length).toBeGreaterThanOrEqual(1);
        expect(await holdings(server, observer, docker)).toEqual(agreeing([created.id]));
        // The workload's channel is up on whichever release runs: a request is answered.
        await eventually(15_000, "the workload answers", async () => {
          const res = await call(observer, "container:request", { id: created.id, data: { ping: 1 } });
          return res.ok || JSON.stringify(res.error);
        });
        await deleteAndCheck(observer, created.id);
        await backTo(before);
        void observer.close();
      });

      it("during an update that then fails its gate: the previous release is put back and runs, as if the client had stayed", async () => {
        const observer = await server.connect("alice");
        const before = await baseline();
        const created = await ok(observer, "container:create", {
          name: `vanish-failed-update-${how.length}`,
          code: await echoCode(),
        });
        const raw = await server.connectRaw("alice");
        // A release whose workload never says hello: its gate fails after 1.5 s, with nobody left to tell.
        raw.emit(
          "container:update",
          {
            id: created.id,
            code: { files: { "index.js": "setInterval(() => {}, 1000);\n" } },
            readyTimeoutMs: 1500,
            progress: { opId: "vanish-failed-update" },
          },
          () => {},
        );
        await underWay("operationsUnderWay");
        vanish(raw);

        await eventually(
          30_000,
          "the update settled",
          () => server.berth.debugCounts().operationsUnderWay === 0,
        );
        expect((await ok(observer, "container:status", { id: created.id })).state).toBe("running");
        const { items } = await ok(observer, "container:releases", { id: created.id });
        expect(items.find((r) => r.status === "active")?.number).toBe(1);
        expect(items.filter((r) => r.status === "pending")).toEqual([]);
        expect(await holdings(server, observer, docker)).toEqual(agreeing([created.id]));
        await eventually(15_000, "the first release answers", async () => {
          const res = await call(observer, "container:request", { id: created.id, data: { version: true } });
          return res.ok || JSON.stringify(res.error);
        });
        await deleteAndCheck(observer, created.id);
        await backTo(before);
        void observer.close();
      });

      it("during a request to a workload that answers late: the call is cancelled at once, not held until the answer", async () => {
        const observer = await server.connect("alice");
        const before = await baseline();
        const created = await ok(observer, "container:create", {
          name: `vanish-request-${how.length}`,
          code: { files: { "index.js": DELAYED_ANSWER } },
        });
        const raw = await server.connectRaw("alice");
        raw.emit(
          "container:request",
          { id: created.id, data: { delayMs: 20_000 }, timeoutMs: 30_000 },
          () => {},
        );
        await underWay("workloadCallsInFlight");
        vanish(raw);

        // Well before the workload answers (20 s): nobody is left to receive the answer (with room for
        // a loaded machine).
        await eventually(
          15_000,
          "the call cancelled",
          () => server.berth.debugCounts().workloadCallsInFlight === 0,
        );
        // The channel still serves others.
        expect(await ok(observer, "container:request", { id: created.id, data: { delayMs: 0 } })).toBe(
          "late",
        );
        await deleteAndCheck(observer, created.id);
        await backTo(before);
        void observer.close();
      });

      it.each([
        {
          what: "following a workload's logs: the follow",
          name: "follow",
          code: tickingCode,
          event: "container:log",
          subscribe: (raw: RawClient, id: string) => ok(raw, "container:follow_logs", { id }),
        },
        {
          what: "watching a container's stats: the watch",
          name: "stats",
          code: echoCode,
          event: "container:resource_usage",
          subscribe: (raw: RawClient, id: string) =>
            ok(raw, "container:watch_stats", { id, intervalMs: 250 }),
        },
      ] as const)("while $what ends with the connection", async ({ name, code, event, subscribe }) => {
        const observer = await server.connect("alice");
        const before = await baseline();
        const created = await ok(observer, "container:create", {
          name: `vanish-${name}-${how.length}`,
          code: await code(),
        });
        const raw = await server.connectRaw("alice");
        const first = new Promise<void>((resolve) => raw.once(event, () => resolve()));
        await subscribe(raw, created.id);
        await within(10_000, `a first ${event}`, first);
        expect(server.berth.debugCounts().subscriptions).toBe(1);
        vanish(raw);

        await eventually(
          10_000,
          "the subscription let go",
          () => server.berth.debugCounts().subscriptions === 0,
        );
        await deleteAndCheck(observer, created.id);
        await backTo(before);
        void observer.close();
      });
    });
  }
});
