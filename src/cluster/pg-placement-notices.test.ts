import { once } from "node:events";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { within } from "../../test/helpers/deadline.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../../test/helpers/postgres-server.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openPostgresStore } from "../store/postgres/postgres-store.ts";
import type { Store } from "../store/store-ports.ts";
import { containerRecord } from "../store/testing/container-record.ts";
import { PgPlacementNotices } from "./pg-placement-notices.ts";

const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});
/** Guards against hanging only: a notice arrives in milliseconds. */
const GUARD_MS = 15_000;

let server: PostgresServer;
let db: FreshDatabase;
let store: Store;
let notices: PgPlacementNotices;

beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  db = await server.freshDatabase();
  store = await openPostgresStore(db.url, new SecretCipher(KeyRing.ephemeral()));
  await store.containers.insert(containerRecord("C1", 20_001));
  notices = new PgPlacementNotices(db.url, log);
  const listening = once(notices, "reset");
  notices.start();
  expect(await within(GUARD_MS, "listening", listening)).toEqual([true]);
});
afterEach(async () => {
  await notices.close();
  await store.close();
  await db.drop();
});

describe("PgPlacementNotices", () => {
  it("tells every placement change of a container at its commit: placed, moved, removed, and gone with its row", async () => {
    const heard: string[] = [];
    notices.on("changed", (id) => heard.push(id));
    await store.placements.place("C1", "n1", 0);
    await store.placements.place("C1", "n2", 1);
    await store.placements.remove("C1", 2);
    await store.placements.place("C1", "n1", 0); // placed nowhere now: expected 0
    await store.containers.delete("C1"); // the placement goes with it
    await within(
      GUARD_MS,
      "five notices",
      new Promise<void>((resolve) => {
        const check = () => heard.length >= 5 && resolve();
        check();
        notices.on("changed", check);
      }),
    );
    expect(heard).toEqual(["C1", "C1", "C1", "C1", "C1"]);
  });

  it("says it stopped hearing when its connection is ended, and listens again by itself", async () => {
    const resets: boolean[] = [];
    notices.on("reset", (listening) => resets.push(listening));
    const back = new Promise<void>((resolve) => notices.on("reset", (l) => l && resolve()));
    await server.admin((c) =>
      c.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'berth placements'",
      ),
    );
    await within(GUARD_MS, "listening again", back);
    expect(resets).toEqual([false, true]);
    const heard = once(notices, "changed");
    await store.placements.place("C1", "n3", 0);
    expect(await within(GUARD_MS, "a notice after listening again", heard)).toEqual(["C1"]);
    // Nothing of the test's own is left listening but the one connection.
    const count = await onConnection(
      db.url,
      async (c) =>
        (
          await c.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'berth placements'",
          )
        ).rows[0]!.n,
    );
    expect(count).toBe(1);
  });

  it("takes a connection that went silent (its server process stopped, the socket still open) for dead, and says so", async () => {
    const quick = new PgPlacementNotices(db.url, log, { checkEveryMs: 200, answerWithinMs: 500 });
    const listening = once(quick, "reset");
    quick.start();
    await within(GUARD_MS, "listening", listening);
    const [pid] = await onConnection(db.url, async (c) =>
      (
        await c.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'berth placements' ORDER BY backend_start DESC LIMIT 1",
        )
      ).rows.map((r) => r.pid),
    );
    const stopped = once(quick, "reset");
    process.kill(pid!, "SIGSTOP");
    try {
      expect(await within(GUARD_MS, "the silence noticed", stopped)).toEqual([false]);
    } finally {
      process.kill(pid!, "SIGCONT");
      await quick.close();
    }
  });
});
