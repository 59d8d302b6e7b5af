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
import { PgChangeNotices } from "./pg-change-notices.ts";

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
let notices: PgChangeNotices;

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
  notices = new PgChangeNotices(db.url, "placements", log);
  const listening = once(notices, "reset");
  notices.start();
  expect(await within(GUARD_MS, "listening", listening)).toEqual([true]);
});
afterEach(async () => {
  await notices.close();
  await store.close();
  await db.drop();
});

describe("PgChangeNotices", () => {
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

  it("tells, on its own channel, every change of a container's state, and its row made or removed — not other writes", async () => {
    const states = new PgChangeNotices(db.url, "states", log);
    try {
      const listening = once(states, "reset");
      states.start();
      expect(await within(GUARD_MS, "listening", listening)).toEqual([true]);
      const heard: string[] = [];
      states.on("changed", (id) => heard.push(id));
      const placementsHeard: string[] = [];
      notices.on("changed", (id) => placementsHeard.push(id));
      await store.containers.insert(containerRecord("C2", 20_002));
      await store.containers.update("C2", { state: "running" });
      // Between them, writes that change no state, to another row: a notice of theirs would say C1, and
      // come in commit order, before the last of C2's.
      await store.containers.update("C1", { health: "healthy" });
      const c1 = await store.containers.get("C1");
      await store.containers.update("C1", { state: c1!.state });
      await store.containers.update("C2", { state: "stopped" });
      await store.containers.delete("C2");
      await within(
        GUARD_MS,
        "four notices",
        new Promise<void>((resolve) => {
          const check = () => heard.length >= 4 && resolve();
          check();
          states.on("changed", check);
        }),
      );
      expect(heard).toEqual(["C2", "C2", "C2", "C2"]);
      expect(placementsHeard).toEqual([]);
    } finally {
      await states.close();
    }
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

  it("closes at once when closed while its connection is being made (a start that failed, then shutdown)", async () => {
    const early = new PgChangeNotices(db.url, "placements", log);
    const resets: boolean[] = [];
    early.on("reset", (listening) => resets.push(listening));
    early.start();
    await within(GUARD_MS, "closed", early.close());
    expect(resets).toEqual([]);
    expect(early.listening).toBe(false);
  });

  it("takes a connection that went silent (its server process stopped, the socket still open) for dead, and says so", async () => {
    const quick = new PgChangeNotices(db.url, "placements", log, { checkEveryMs: 200, answerWithinMs: 500 });
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
