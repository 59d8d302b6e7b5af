import { once } from "node:events";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually, within } from "../../test/helpers/deadline.ts";
import {
  type FreshDatabase,
  type PostgresServer,
  startPostgresServer,
} from "../../test/helpers/postgres-server.ts";
import { PgChangeNotices } from "../cluster/pg-change-notices.ts";
import { NotFoundError } from "../errors/errors.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openPostgresStore } from "../store/postgres/postgres-store.ts";
import type { Store } from "../store/store-ports.ts";
import { containerRecord } from "../store/testing/container-record.ts";
import { ContainerOwners } from "./container-owners.ts";

const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});
/** Guards against hanging only: a notice arrives in milliseconds. */
const GUARD_MS = 15_000;
const ALICE = { owner: "alice", admin: false };
const ID = "C0000000000A";

/** One API server's part: its own store connections, its own notices, its own memory. */
interface ServerSide {
  store: Store;
  notices: PgChangeNotices;
  owners: ContainerOwners;
}

async function serverSide(url: string): Promise<ServerSide> {
  const store = await openPostgresStore(url, new SecretCipher(KeyRing.ephemeral()));
  const notices = new PgChangeNotices(url, "states", log);
  const owners = new ContainerOwners(store.containers, notices);
  const listening = once(notices, "reset");
  notices.start();
  expect(await within(GUARD_MS, "listening", listening)).toEqual([true]);
  return { store, notices, owners };
}

let server: PostgresServer;
let db: FreshDatabase;
let one: ServerSide;
let two: ServerSide;

beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  db = await server.freshDatabase();
  [one, two] = [await serverSide(db.url), await serverSide(db.url)];
  // The row's own notice heard by both first: a read it overtook would (rightly) keep nothing.
  const heard = [one, two].map((side) => once(side.notices, "changed"));
  await one.store.containers.insert(containerRecord(ID, 20_001, { name: "bot" }));
  await within(GUARD_MS, "the new row's notice on both servers", Promise.all(heard));
});
afterEach(async () => {
  for (const side of [one, two]) {
    await side?.notices.close();
    await side?.store.close();
  }
  await db.drop();
});

describe("ContainerOwners on PostgreSQL, two API servers", () => {
  it("answers from memory on both servers, and forgets on both a container one of them deleted", async () => {
    for (const side of [one, two]) {
      expect(await side.owners.find(ALICE, ID)).toEqual({ id: ID, remembered: false });
      expect(await side.owners.find(ALICE, "bot")).toEqual({ id: ID, remembered: true });
    }
    // Server one deletes it (removeEverything: the row, then its own memory at once).
    await one.store.containers.delete(ID);
    one.owners.forget(ID);
    await expect(one.owners.find(ALICE, ID)).rejects.toBeInstanceOf(NotFoundError);
    // Server two hears the store's notice of the removal.
    await eventually(GUARD_MS, "server two forgets the deleted container", () => two.owners.size === 0);
    await expect(two.owners.find(ALICE, ID)).rejects.toBeInstanceOf(NotFoundError);
    await expect(two.owners.find(ALICE, "bot")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("forgets at any notice of the row (a state change), and keeps it again at the next read", async () => {
    await two.owners.find(ALICE, ID);
    expect((await two.owners.find(ALICE, ID)).remembered).toBe(true);
    const heard = once(two.notices, "changed");
    await one.store.containers.update(ID, { state: "running" });
    expect(await within(GUARD_MS, "the state change's notice", heard)).toEqual([ID]);
    expect(await two.owners.find(ALICE, ID)).toEqual({ id: ID, remembered: false });
    expect(await two.owners.find(ALICE, ID)).toEqual({ id: ID, remembered: true });
  });

  it("reads the store while its notices' connection is down, and keeps again once it listens again", async () => {
    await two.owners.find(ALICE, ID);
    const resets: boolean[] = [];
    two.notices.on("reset", (listening) => resets.push(listening));
    const back = new Promise<void>((resolve) => two.notices.on("reset", (l) => l && resolve()));
    // Both servers' listening sessions end; each makes its own again.
    await server.admin((c) =>
      c.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'berth container states'",
      ),
    );
    await within(GUARD_MS, "listening again", back);
    expect(resets).toEqual([false, true]);
    expect(await two.owners.find(ALICE, ID)).toEqual({ id: ID, remembered: false });
    expect(await two.owners.find(ALICE, ID)).toEqual({ id: ID, remembered: true });
  });
});
