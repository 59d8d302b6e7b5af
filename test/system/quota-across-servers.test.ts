import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServersOnOneDatabase, serversOnOneDatabase } from "../helpers/servers-on-one-database.ts";
import { call, docker, echoCode, ok, type RawClient, type TestServer } from "../helpers/test-server.ts";
import { TEST_STORE } from "../helpers/test-store.ts";

// Two berth API servers on one PostgreSQL database (BERTH_TEST_STORE=postgres, npm run test:postgres), on this
// machine's one engine, each with its own instance id — an owner's attack on their quotas from two connections,
// one to each server, firing at the same instant. Both servers start before any container exists (see
// fan-out.test.ts: a berth started later would take the other's containers as missing).
describe.skipIf(TEST_STORE !== "postgres")(
  "quotas and rate limits across two API servers on one database",
  () => {
    let bed: ServersOnOneDatabase;
    let one: TestServer;
    let two: TestServer;

    beforeAll(async () => {
      bed = await serversOnOneDatabase(2, {
        BERTH_QUOTA_CONTAINERS: "2",
        BERTH_QUOTA_RUNNING: "1",
        // One lifecycle operation a minute, for the rate limit's case (the quotas' cases take none).
        BERTH_RATE_LIFECYCLE_PER_MIN: "1",
        BERTH_RATE_LIFECYCLE_BURST: "1",
      });
      [one, two] = bed.servers as [TestServer, TestServer];
    });

    afterAll(() => bed?.close());

    /** The owner's containers in the engine, made by either server. */
    async function engineContainers(owner: string): Promise<number> {
      let n = 0;
      for (const server of [one, two]) {
        const list = await docker.listContainers({
          all: true,
          filters: { label: [`berth.instance=${server.berth.instanceId}`, `berth.owner=${owner}`] },
        });
        n += list.length;
      }
      return n;
    }

    /** The same create sent to both servers in one tick: each answer as the server gave it. */
    async function createOnBoth(
      clients: [RawClient, RawClient],
      spec: (server: number) => Record<string, unknown>,
    ): Promise<Array<Awaited<ReturnType<typeof call<"container:create">>>>> {
      return Promise.all(clients.map((client, i) => call(client, "container:create", spec(i))));
    }

    it("lets exactly one of two creates through, one on each server, to an owner one container below the quota", async () => {
      const clients: [RawClient, RawClient] = [await one.connectRaw("alice"), await two.connectRaw("alice")];
      await ok(clients[0], "container:create", { name: "first", start: false });

      const answers = await createOnBoth(clients, (i) => ({ name: `racing-${i}`, start: false }));

      expect(answers.filter((a) => a.ok)).toHaveLength(1);
      expect(answers.filter((a) => !a.ok)).toMatchObject([
        {
          ok: false,
          error: {
            code: "QUOTA_EXCEEDED",
            details: { quota: "containers", usage: 2, requested: 1, limit: 2 },
          },
        },
      ]);
      // Nothing half-made of the refused one, as either server sees it and in the engine.
      for (const client of clients) {
        expect((await ok(client, "container:list", {})).items.map((c) => c.name).sort()).toEqual(
          ["first", ...answers.flatMap((a) => (a.ok ? [a.data.name] : []))].sort(),
        );
      }
      expect(await engineContainers("alice")).toBe(2);
    });

    it("lets exactly one of two started creates run, one on each server, to an owner one below the running quota", async () => {
      const clients: [RawClient, RawClient] = [await one.connectRaw("bob"), await two.connectRaw("bob")];
      const code = await echoCode();

      const answers = await createOnBoth(clients, (i) => ({ name: `running-${i}`, code, waitReady: false }));

      expect(answers.filter((a) => a.ok)).toMatchObject([{ ok: true, data: { state: "running" } }]);
      expect(answers.filter((a) => !a.ok)).toMatchObject([
        {
          ok: false,
          error: { code: "QUOTA_EXCEEDED", details: { quota: "running", usage: 1, requested: 1, limit: 1 } },
        },
      ]);
      for (const client of clients) {
        const listed = (await ok(client, "container:list", {})).items;
        expect(listed.map((c) => c.state)).toEqual(["running"]);
      }
      expect(await engineContainers("bob")).toBe(1);
    });

    it("holds an owner's rate limit across servers: one lifecycle operation a minute, sent to both at once, passes once", async () => {
      const clients: [RawClient, RawClient] = [await one.connectRaw("bob"), await two.connectRaw("bob")];
      // Containers that do not exist: the token is taken before the container is looked up, so the one let
      // through answers NOT_FOUND, and the other RATE_LIMITED.
      const answers = await Promise.all(
        clients.map((client, i) => call(client, "container:stop", { id: `no-such-${i}` })),
      );
      expect(answers.map((a) => (a.ok ? "ok" : a.error.code)).sort()).toEqual(["NOT_FOUND", "RATE_LIMITED"]);
      expect(answers.find((a) => !a.ok && a.error.code === "RATE_LIMITED")).toMatchObject({
        error: { retryable: true, details: { limit: "lifecycle" } },
      });
    });
  },
);
