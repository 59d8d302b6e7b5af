import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onConnection } from "../helpers/postgres-server.ts";
import { type ServersOnOneDatabase, serversOnOneDatabase } from "../helpers/servers-on-one-database.ts";
import { call, echoCode, ok, type RawClient, type TestServer } from "../helpers/test-server.ts";
import { TEST_STORE } from "../helpers/test-store.ts";

/** A well-formed container id that no container has. */
const NO_SUCH_ID = "C00000000000";

// Two berth API servers on one PostgreSQL database (BERTH_TEST_STORE=postgres), each keeping in memory who
// owns the containers it was asked about (container-owners.ts): what a request or a message answers must be
// what the store says, on both servers, also the moment a container is deleted. Without Redis: each server
// holds the channels of the workloads it made, so the other answers a request to one as not connected.
describe.skipIf(TEST_STORE !== "postgres")(
  "requests and messages on two API servers sharing one database",
  () => {
    let bed: ServersOnOneDatabase;
    let one: TestServer;
    let two: TestServer;

    beforeAll(async () => {
      bed = await serversOnOneDatabase(2);
      [one, two] = bed.servers as [TestServer, TestServer];
    });

    afterAll(() => bed?.close());

    /** Asks `event` of the container `ref` on `client`, answering the error's code (or "ok"). */
    async function codeOf(
      client: RawClient,
      event: "container:request" | "container:send",
      ref: string,
    ): Promise<string> {
      const payload =
        event === "container:request" ? { id: ref, data: 1, timeoutMs: 5_000 } : { id: ref, data: 1 };
      const answer = await call(client, event, payload);
      return answer.ok ? "ok" : answer.error.code;
    }

    it("answers NOT_FOUND on both servers the moment a container is deleted, and bob NOT_FOUND throughout", async () => {
      const [alice1, alice2, bob1, bob2] = await Promise.all([
        one.connectRaw("alice"),
        two.connectRaw("alice"),
        one.connectRaw("bob"),
        two.connectRaw("bob"),
      ]);
      const { id } = await ok(alice1, "container:create", { name: "asked", code: await echoCode() });
      // Each server asked several times, by id and by name: from the first answer on, memory may answer.
      for (const ref of [id, id, "asked", "asked"]) {
        expect(await codeOf(alice1, "container:request", ref)).toBe("ok");
        expect(await codeOf(alice1, "container:send", ref)).toBe("ok");
        // The workload's channel is server one's: server two has found it, and cannot reach it.
        expect(await codeOf(alice2, "container:request", ref)).toBe("CHANNEL_NOT_CONNECTED");
        expect(await codeOf(alice2, "container:send", ref)).toBe("CHANNEL_NOT_CONNECTED");
      }
      // Bob is told of alice's container exactly what he is told of one that does not exist, on either server.
      for (const bob of [bob1, bob2]) {
        for (const event of ["container:request", "container:send"] as const) {
          expect(await codeOf(bob, event, id)).toBe("NOT_FOUND");
          expect(await codeOf(bob, event, NO_SUCH_ID)).toBe("NOT_FOUND");
          expect(await codeOf(bob, event, "asked")).toBe("NOT_FOUND");
        }
      }

      // The store's notices held back (both servers' listening sessions stopped, their sockets open): server
      // two's memory still has the container when it is deleted, and until its check of the silent session.
      const held = await listeningSessions();
      expect(held).toHaveLength(2);
      for (const pid of held) process.kill(pid, "SIGSTOP");
      try {
        expect(await ok(alice1, "container:delete", { id })).toEqual({ id, deleted: true });
        // At once, on the other server first, and on the one that deleted it.
        for (const client of [alice2, alice1, alice2, alice1]) {
          for (const event of ["container:request", "container:send"] as const) {
            expect(await codeOf(client, event, id)).toBe("NOT_FOUND");
            expect(await codeOf(client, event, "asked")).toBe("NOT_FOUND");
          }
        }
      } finally {
        for (const pid of held) process.kill(pid, "SIGCONT");
      }
    });

    /** The PostgreSQL processes of both servers' sessions listening for container changes (PgChangeNotices). */
    function listeningSessions(): Promise<number[]> {
      return onConnection(bed.databaseUrl, async (c) =>
        (
          await c.query<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'berth container states' AND datname = current_database()",
          )
        ).rows.map((r) => r.pid),
      );
    }
  },
);
