import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/helpers/deadline.ts";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../../../test/helpers/postgres-server.ts";
import { KeyRing } from "../../secrets/key-ring.ts";
import { SecretCipher } from "../../secrets/secret-cipher.ts";
import { StalePlacementError } from "../store-errors.ts";
import type { Placement, Store } from "../store-ports.ts";
import { openPostgresStore } from "./postgres-store.ts";

// What the shared contract (postgres-store.test.ts) cannot arrange: two API servers' placements
// reaching PostgreSQL at the same moment, not merely one after the other.
let server: PostgresServer;
let database: FreshDatabase;
let servers: Store[];
const cipher = new SecretCipher(KeyRing.ephemeral());

beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  database = await server.freshDatabase();
  servers = [await openPostgresStore(database.url, cipher), await openPostgresStore(database.url, cipher)];
  await servers[0]!.containers.insert({
    id: "C1",
    owner: "alice",
    name: "web",
    image: "berth/runtime-node:24",
    spec: { name: "web" },
    dockerId: null,
    dockerName: "berth-C1",
    state: "running",
    health: "none",
    uid: 200_001,
    createdAt: 1_000,
    startedAt: null,
    exitCode: null,
    release: null,
    restartCount: 0,
  });
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await database.drop();
});

/**
 * Starts one placement on each server while a transaction holds `placements`
 * in EXCLUSIVE mode (reads go on, writes wait), waits until PostgreSQL shows
 * both waiting for it, then lets them go at once.
 */
async function placeAtOnce(expected: number): Promise<PromiseSettledResult<Placement>[]> {
  return onConnection(database.url, async (holder) => {
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE placements IN EXCLUSIVE MODE");
    const racing = Promise.allSettled([
      servers[0]!.placements.place("C1", "node-a", expected),
      servers[1]!.placements.place("C1", "node-b", expected),
    ]);
    await eventually(15_000, "both placements wait for the table", async () => {
      const { rows } = await holder.query<{ n: number | string }>(
        "SELECT count(*) AS n FROM pg_locks WHERE relation = 'placements'::regclass AND NOT granted",
      );
      return Number(rows[0]?.n) === 2;
    });
    await holder.query("COMMIT");
    return racing;
  });
}

describe("placements on PostgreSQL, two API servers at the same moment", () => {
  it("place a container the first time: exactly one wins, the other is refused and wrote nothing", async () => {
    const outcomes = await placeAtOnce(0);
    expectOneWinner(outcomes, 0);
    const won = winner(outcomes);
    expect(won.generation).toBe(1);
    expect(await servers[0]!.placements.current("C1")).toEqual(won);
    const loser = won.nodeId === "node-a" ? "node-b" : "node-a";
    expect(await servers[1]!.placements.onNode(loser)).toEqual([]);
  });

  it("move it from one generation: exactly one wins, one generation on", async () => {
    await servers[0]!.placements.place("C1", "node-c", 0);
    for (const expected of [1, 2, 3]) {
      const outcomes = await placeAtOnce(expected);
      expectOneWinner(outcomes, expected);
      expect(winner(outcomes).generation).toBe(expected + 1);
      expect(await servers[1]!.placements.current("C1")).toEqual(winner(outcomes));
    }
  });
});

function expectOneWinner(outcomes: PromiseSettledResult<Placement>[], expected: number): void {
  expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
  const lost = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  expect(lost?.reason).toBeInstanceOf(StalePlacementError);
  expect(lost?.reason).toMatchObject({ expectedGeneration: expected, currentGeneration: expected + 1 });
}

function winner(outcomes: PromiseSettledResult<Placement>[]): Placement {
  const won = outcomes.find((o): o is PromiseFulfilledResult<Placement> => o.status === "fulfilled");
  if (!won) throw new Error("no placement won");
  return won.value;
}
