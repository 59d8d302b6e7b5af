import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ActivityEntry, StatusChangedEvent } from "#protocol";
import { spawnBerth } from "../helpers/berth-process.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { nextActivity, nextStatus } from "../helpers/events.ts";
import { type FreshDatabase, PostgresDatabases } from "../helpers/postgres-server.ts";
import { REDIS_TESTS_RUN, type RedisServer, startRedisServer } from "../helpers/redis-server.ts";
import { startTcpBalancer, type TcpBalancer } from "../helpers/tcp-balancer.ts";
import {
  ok,
  type RawClient,
  startTestServer,
  type TestServer,
  TOKENS,
  tickingCode,
} from "../helpers/test-server.ts";
import { TEST_STORE } from "../helpers/test-store.ts";

/** Every status change and activity entry a connection is pushed, as text, to look for a container's id in. */
function recordPushes(client: RawClient): string[] {
  const seen: string[] = [];
  client.on("container:status_changed", (e: StatusChangedEvent) => seen.push(JSON.stringify(e)));
  client.on("activity_log", (e: ActivityEntry) => seen.push(JSON.stringify(e)));
  client.on("container:health_changed", (e) => seen.push(JSON.stringify(e)));
  return seen;
}

/** A fresh client presenting `auth` as is (a session id and offset too), recording every packet it receives. */
async function presenting(
  server: TestServer,
  auth: Record<string, unknown>,
): Promise<{ client: RawClient; packets: string[] }> {
  const client: RawClient = io(server.url, { auth, transports: ["websocket"], reconnection: false });
  const packets: string[] = [];
  client.io.on("open", () => {
    client.io.engine.on("packet", (p: { type: string; data?: unknown }) => {
      if (p.type === "message") packets.push(String(p.data));
    });
  });
  await within(
    10_000,
    "the handshake's answer",
    new Promise((resolve, reject) => {
      client.once("connect", () => resolve(undefined));
      client.once("connect_error", reject);
    }),
  );
  return { client, packets };
}

const portOf = (server: TestServer): number => Number(new URL(server.url).port);

// Two berth API servers on one PostgreSQL database and one Redis: with BERTH_TEST_STORE=postgres (npm run
// test:postgres), where Debian's redis-server is installed (scripts/setup.mjs --with-redis).
//
// Both servers run on this machine's one engine, each with its own instance id. Both start before any container
// exists and the engine is not restarted here: a berth's reconciliation (at its start and at each return of the
// engine) takes every row of the shared store whose container it does not find among its own instance's as
// missing, so a server started after the other made containers would mark them so (cluster mode's singletons).
describe.skipIf(TEST_STORE !== "postgres" || !REDIS_TESTS_RUN)(
  "fan-out across two API servers through Redis",
  () => {
    let redis: RedisServer;
    let database: FreshDatabase;
    let keyDir: string;
    let one: TestServer;
    let two: TestServer;
    let env: Record<string, string>;
    let oneClosed = false;
    const opened: RawClient[] = [];

    beforeAll(async () => {
      // A password with characters a URL must encode (%, /, @): BERTH_REDIS_URL holds it encoded, Redis
      // gets it decoded, and a log line could show either form — only with such a password do they differ.
      redis = await startRedisServer({ password: `pa%s/wo@rd-${randomBytes(12).toString("base64url")}` });
      const info = inject("berthPostgres");
      if (!info) throw new Error("no PostgreSQL server for this run");
      database = await new PostgresDatabases(info).freshDatabase();
      // One key for secrets at rest, as every API server of a cluster has.
      keyDir = await mkdtemp(join(tmpdir(), "bt-key-"));
      env = {
        BERTH_DATABASE_URL: database.url,
        BERTH_REDIS_URL: redis.url,
        BERTH_SECRET_KEY_FILE: join(keyDir, "secret.key"),
      };
      one = await startTestServer(env);
      two = await startTestServer(env);
    });

    afterAll(async () => {
      for (const client of opened) client.disconnect();
      // Every step, whatever an earlier one did: a server that fails to close must not leave Redis running.
      const steps = [
        () => (oneClosed ? undefined : one?.close()),
        () => two?.close(),
        () => redis?.close(),
        () => database?.drop(),
        () => (keyDir ? rm(keyDir, { recursive: true, force: true }) : undefined),
      ];
      const failures: unknown[] = [];
      for (const step of steps)
        await Promise.resolve()
          .then(step)
          .catch((err: unknown) => failures.push(err));
      if (failures.length > 0)
        throw new AggregateError(failures, "could not clean up after the fan-out tests");
    });

    async function connect(server: TestServer, who: keyof typeof TOKENS): Promise<RawClient> {
      const client = await server.connectRaw(who);
      opened.push(client);
      return client;
    }

    /** Pushes follow one another through the one stream: bob's own push arriving means alice's earlier ones have passed. */
    async function bobsOwnPush(bobs: RawClient[], via: RawClient): Promise<void> {
      const name = `bob-marker-${Date.now()}`;
      const seen = bobs.map((bob) => nextStatus(bob, (e) => e.name === name && e.to === "created"));
      const made = await ok(via, "container:create", { name, start: false });
      await within(15_000, "bob's own push on both servers", Promise.all(seen));
      await ok(via, "container:delete", { id: made.id });
    }

    it("pushes alice's operation on server 1 to her connection on server 2 (and the admin's), and nothing of it to bob's", async () => {
      const aliceOn1 = await connect(one, "alice");
      const aliceOn2 = await connect(two, "alice");
      const adminOn2 = await connect(two, "admin");
      const bobOn1 = await connect(one, "bob");
      const bobOn2 = await connect(two, "bob");
      const bobSawOn = [recordPushes(bobOn1), recordPushes(bobOn2)];

      const name = "fanned-out";
      const status = nextStatus(aliceOn2, (e) => e.name === name && e.to === "created");
      const activity = nextActivity(aliceOn2, (e) => e.containerName === name);
      const adminStatus = nextStatus(adminOn2, (e) => e.name === name && e.to === "created");
      const made = await ok(aliceOn1, "container:create", { name, start: false });

      const [pushed, entry] = await within(
        15_000,
        "alice's pushes on server 2",
        Promise.all([status, activity]),
      );
      expect(pushed.id).toBe(made.id);
      expect(entry.containerId).toBe(made.id);
      expect((await within(15_000, "the admin's push on server 2", adminStatus)).id).toBe(made.id);

      await bobsOwnPush([bobOn1, bobOn2], bobOn2);
      // bob's connections heard pushes (their own), and not one of them is alice's.
      for (const seen of bobSawOn) expect(seen.length).toBeGreaterThan(0);
      const bobSaw = bobSawOn.flat().join("\n");
      expect(bobSaw).not.toContain(made.id);
      expect(bobSaw).not.toContain(`"${name}"`);
      await ok(aliceOn1, "container:delete", { id: made.id });
    });

    it("keeps workload messages, logs and progress steps off Redis: only status changes and activity enter its stream", async () => {
      const alice = await connect(one, "alice");
      const made = await ok(alice, "container:create", {
        name: "talks-locally",
        code: await tickingCode(),
        progress: { opId: "talks-locally-create" },
      });
      await ok(alice, "container:subscribe", { id: made.id });
      // Stats too, until one sample has come: only then can their absence from the stream say anything.
      const sampled = new Promise((resolve) => alice.once("container:resource_usage", resolve));
      await ok(alice, "container:watch_stats", { id: made.id, intervalMs: 250 });
      await within(10_000, "a stats sample", sampled);
      const logged = new Promise((resolve) => alice.once("container:log", resolve));
      await ok(alice, "container:follow_logs", { id: made.id });
      await within(10_000, "a followed log line", logged);
      const echoed = new Promise((resolve) => alice.once("container:message", resolve));
      await ok(alice, "container:send", { id: made.id, data: "over here" });
      expect(await within(10_000, "the workload's message", echoed)).toMatchObject({
        data: { echo: "over here" },
      });

      // What went through Redis: the adapter's stream ("socket.io"), read as another server would.
      const reader = createClient({ url: redis.url });
      await reader.connect();
      try {
        const entries = JSON.stringify(await reader.xRange("socket.io", "-", "+"));
        expect(entries).toContain(made.id); // the status changes and activity entries of the create did go
        for (const event of ["container:message", "container:log", "container:progress", "resource_usage"])
          expect(entries).not.toContain(event);
      } finally {
        await reader.close();
      }
      await ok(alice, "container:delete", { id: made.id });
    });

    it("keeps serving each server's own clients while Redis is down, and fans out again once it is back", async () => {
      const aliceOn1 = await connect(one, "alice");
      const aliceOn2 = await connect(two, "alice");

      await redis.stop();
      await eventually(15_000, "both servers saying Redis is unreachable", () =>
        [one, two].every((s) => s.logs().includes("Redis unreachable")),
      );
      // Down: alice's operation on server 1 still reaches her connection there, at once — not after a publish to
      // Redis has timed out (2 s): the push is emitted before the create answers, so a second after is plenty.
      const local = nextStatus(aliceOn1, (e) => e.name === "while-down" && e.to === "created");
      const whileDown = await ok(aliceOn1, "container:create", { name: "while-down", start: false });
      await within(1_000, "the push to server 1's own client while Redis is down", local);

      await redis.start();
      await eventually(15_000, "both servers saying Redis is back", () =>
        [one, two].every((s) => s.logs().includes("Redis is back")),
      );
      // Back: the adapter's stream reader and subscriber reconnected too, not the publishing client only.
      await eventually(20_000, "a push from server 1 reaching server 2 again", async () => {
        const name = `after-restart-${Date.now()}`;
        const seen = nextStatus(aliceOn2, (e) => e.name === name && e.to === "created");
        const made = await ok(aliceOn1, "container:create", { name, start: false });
        const arrived = await within(2_000, "fan-out", seen).then(
          () => true,
          () => false,
        );
        await ok(aliceOn1, "container:delete", { id: made.id });
        return arrived || "not yet";
      });
      const back = nextStatus(aliceOn1, (e) => e.name === "from-two" && e.to === "created");
      const fromTwo = await ok(aliceOn2, "container:create", { name: "from-two", start: false });
      await within(10_000, "a push from server 2 reaching server 1", back);
      await ok(aliceOn1, "container:delete", { id: whileDown.id });
      await ok(aliceOn2, "container:delete", { id: fromTwo.id });
    });

    it("recovers a session on the other server for its own token only: bob presenting alice's gets a fresh one, and alice hers after", async () => {
      const alice = await connect(one, "alice");
      const adminOn2 = await connect(two, "admin");
      const created = nextStatus(alice, (e) => e.name === "guarded-across" && e.to === "created");
      const made = await ok(alice, "container:create", { name: "guarded-across", start: false });
      await within(10_000, "alice's status push", created);
      const { _pid: pid, _lastOffset: offset } = alice as unknown as { _pid: string; _lastOffset: string };
      const aliceId = alice.id;

      // alice's transport drops (server 1 keeps her session in Redis); her container is deleted meanwhile.
      alice.io.engine.close();
      const deleted = nextStatus(adminOn2, (e) => e.id === made.id && e.to === "removing");
      await ok(adminOn2, "container:delete", { id: made.id });
      await within(10_000, "the delete's push", deleted);

      const asBob = await presenting(two, { token: TOKENS.bob, pid, offset });
      expect(asBob.client.id).not.toBe(aliceId);
      expect(asBob.packets.join("\n")).not.toContain(made.id);
      asBob.client.disconnect();

      const back = await presenting(two, { token: TOKENS.alice, pid, offset });
      expect(back.client.id).toBe(aliceId);
      expect(back.packets.join("\n")).toContain(made.id);
      back.client.disconnect();
    });

    /** alice through the balancer, reconnecting by herself (quickly) whenever her connection drops. */
    async function aliceThrough(balancer: TcpBalancer): Promise<RawClient> {
      const alice: RawClient = io(balancer.url, {
        auth: { token: TOKENS.alice },
        transports: ["websocket"],
        reconnectionDelay: 100,
        reconnectionDelayMax: 500,
      });
      opened.push(alice);
      await within(
        10_000,
        "alice's connection through the balancer",
        new Promise((r) => alice.once("connect", () => r(undefined))),
      );
      return alice;
    }

    it("lets a client whose server is killed reconnect to the other and recover its session with what it missed", async () => {
      // A third API server, as a process of its own, to kill: its sessions are in Redis before it dies.
      const dataDir = await mkdtemp(join(tmpdir(), "bt-"));
      const doomed = await spawnBerth({
        ...env,
        BERTH_DATA_DIR: dataDir,
        BERTH_TOKENS: `alice:${TOKENS.alice},bob:${TOKENS.bob}`,
        BERTH_ADMIN_TOKEN: TOKENS.admin,
      });
      let balancer: TcpBalancer | undefined;
      try {
        balancer = await startTcpBalancer([doomed.port]);
        const alice = await aliceThrough(balancer);
        const aliceOn2 = await connect(two, "alice");
        const first = nextStatus(alice, (e) => e.name === "outlives-its-server" && e.to === "created");
        const made = await ok(aliceOn2, "container:create", { name: "outlives-its-server", start: false });
        await within(15_000, "the push that gives alice an offset", first);
        const sessionId = alice.id;

        balancer.backends = [];
        const dropped = new Promise((r) => alice.once("disconnect", r));
        await doomed.kill("SIGKILL");
        await within(10_000, "alice's disconnect", dropped);

        const missed = nextStatus(alice, (e) => e.id === made.id && e.to === "removing");
        const sawIt = nextStatus(aliceOn2, (e) => e.id === made.id && e.to === "removing");
        await ok(aliceOn2, "container:delete", { id: made.id });
        await within(10_000, "the delete's push on server 2", sawIt);

        balancer.backends = [portOf(two)];
        await within(
          15_000,
          "alice back, through server 2",
          new Promise((r) => alice.once("connect", () => r(undefined))),
        );
        expect(alice.recovered).toBe(true);
        expect(alice.id).toBe(sessionId);
        await within(15_000, "the push alice missed while away", missed);
      } finally {
        await balancer?.close();
        await doomed.kill("SIGKILL");
        await rm(dataDir, { recursive: true, force: true });
      }
    });

    it("lets a client whose server closes reconnect to the other, through the load balancer, and recover its session with what it missed", async () => {
      let balancer: TcpBalancer | undefined;
      try {
        balancer = await startTcpBalancer([portOf(one)]);
        const alice = await aliceThrough(balancer);
        const aliceOn2 = await connect(two, "alice");

        // A push from server 2 gives alice's client (on server 1) an offset in the shared stream to resume from.
        const first = nextStatus(alice, (e) => e.name === "recover-across" && e.to === "created");
        const made = await ok(aliceOn2, "container:create", { name: "recover-across", start: false });
        await within(15_000, "the push that gives alice an offset", first);
        const sessionId = alice.id;

        // Server 1 leaves: out of the balancer, then closed. alice is cut off until server 2 takes her.
        balancer.backends = [];
        const dropped = new Promise((r) => alice.once("disconnect", r));
        await one.close();
        oneClosed = true;
        await within(10_000, "alice's disconnect", dropped);

        // While she is away, her container is deleted through server 2.
        const missed = nextStatus(alice, (e) => e.id === made.id && e.to === "removing");
        const sawIt = nextStatus(aliceOn2, (e) => e.id === made.id && e.to === "removing");
        await ok(aliceOn2, "container:delete", { id: made.id });
        await within(10_000, "the delete's push on server 2", sawIt);

        balancer.backends = [portOf(two)];
        await within(
          15_000,
          "alice back, through server 2",
          new Promise((r) => alice.once("connect", () => r(undefined))),
        );
        expect(alice.recovered).toBe(true);
        expect(alice.id).toBe(sessionId);
        await within(15_000, "the push alice missed while away", missed);
      } finally {
        await balancer?.close();
      }
    });

    it("never shows BERTH_REDIS_URL's password: no log line, no server:info, no activity entry", async () => {
      expect(redis.password).toMatch(/%.*\/.*@/);
      expect(redis.url).toContain(encodeURIComponent(redis.password));
      // Redis lost and back under server 2, so that it logs about Redis whatever ran before.
      const said = (text: string) => two.logs().split(text).length - 1;
      const [lost, back] = [said("Redis unreachable"), said("Redis is back")];
      await redis.stop();
      await eventually(
        15_000,
        "server 2 saying Redis is unreachable",
        () => said("Redis unreachable") > lost,
      );
      await redis.start();
      await eventually(15_000, "server 2 saying Redis is back", () => said("Redis is back") > back);
      const alice = await two.connect("alice");
      const admin = await two.connect("admin");
      const seen = [
        one.logs(),
        two.logs(),
        JSON.stringify(alice.info),
        JSON.stringify(admin.info),
        JSON.stringify(await alice.activity.history()),
        JSON.stringify(await admin.activity.history()),
      ];
      for (const text of seen) {
        expect(text).not.toContain(redis.password);
        expect(text).not.toContain(encodeURIComponent(redis.password));
      }
    });
  },
);
