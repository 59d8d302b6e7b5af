import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type FreshDatabase,
  type PostgresServer,
  startPostgresServer,
} from "../../test/helpers/postgres-server.ts";
import { PgDatabase } from "../store/postgres/pg-database.ts";
import { migratePostgres } from "../store/postgres/pg-migrations.ts";
import { PgRateBuckets } from "./pg-rate-buckets.ts";

// One throwaway server for the file, a migrated database of its own for every test. Each PgRateBuckets is what
// one berth server holds.
let server: PostgresServer;
let db: FreshDatabase;
let made: PgRateBuckets[];

beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
beforeEach(async () => {
  db = await server.freshDatabase();
  const migrating = new PgDatabase(db.url);
  await migratePostgres(migrating);
  await migrating.close();
  made = [];
});
afterEach(async () => {
  await Promise.all(made.map((b) => b.close()));
  await db.drop();
});

function buckets(): PgRateBuckets {
  const b = new PgRateBuckets({ url: db.url });
  made.push(b);
  return b;
}

/** One request a minute, three at once: a refill takes a minute, far longer than any test. */
const SLOW = { perMinute: 1, burst: 3 };

describe("PgRateBuckets", () => {
  it("lets a burst through at once, then refuses with the time until the next request would pass", async () => {
    const b = buckets();
    for (let i = 0; i < 3; i++) expect(await b.take("alice", "create", SLOW)).toBe(0);
    const wait = await b.take("alice", "create", SLOW);
    // A minute per token, less the moments the three takes took.
    expect(wait).toBeGreaterThan(55_000);
    expect(wait).toBeLessThanOrEqual(60_000);
  });

  it("shares one bucket between servers: their takes at once together get the burst, not a burst each", async () => {
    const servers = [buckets(), buckets(), buckets(), buckets()];
    const owners = ["o1", "o2", "o3", "o4", "o5"];
    // Every take of every owner at once, each owner's first takes racing to make its bucket's row.
    const answers = await Promise.all(
      owners.flatMap((owner) =>
        Array.from({ length: 12 }, (_, i) =>
          servers[i % servers.length]!.take(owner, "create", SLOW).then((wait) => ({ owner, wait })),
        ),
      ),
    );
    for (const owner of owners) {
      const mine = answers.filter((a) => a.owner === owner);
      expect(mine.filter((a) => a.wait === 0)).toHaveLength(3);
      expect(mine.filter((a) => a.wait > 0)).toHaveLength(9);
    }
  });

  it("keeps each owner's and each kind's bucket apart", async () => {
    const b = buckets();
    for (let i = 0; i < 3; i++) await b.take("alice", "create", SLOW);
    expect(await b.take("alice", "create", SLOW)).toBeGreaterThan(0);
    expect(await b.take("bob", "create", SLOW)).toBe(0);
    expect(await b.take("alice", "lifecycle", SLOW)).toBe(0);
  });

  it("refills at the rate: at 6,000 a minute, a token is back within about 10 ms", async () => {
    const b = buckets();
    const fast = { perMinute: 6_000, burst: 1 };
    expect(await b.take("alice", "create", fast)).toBe(0);
    const wait = await b.take("alice", "create", fast);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(10);
    await new Promise((r) => setTimeout(r, wait + 5));
    expect(await b.take("alice", "create", fast)).toBe(0);
  });
});
