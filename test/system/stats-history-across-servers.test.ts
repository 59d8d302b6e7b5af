import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/deadline.ts";
import { type ServersOnOneDatabase, serversOnOneDatabase } from "../helpers/servers-on-one-database.ts";
import { call, echoCode, ok, type RawClient } from "../helpers/test-server.ts";
import { TEST_STORE } from "../helpers/test-store.ts";

/** A fast history, so that a few samples gather within a test. */
const INTERVAL_MS = 250;

// Two API servers on one database: a client of either sees the history of any of its workloads, whichever
// server started, stopped or deleted it (each server follows every container's state by the store's notices).
describe.skipIf(TEST_STORE !== "postgres")("the stats history across two API servers on one database", () => {
  let bed: ServersOnOneDatabase;
  beforeAll(async () => {
    bed = await serversOnOneDatabase(2, { BERTH_STATS_HISTORY_INTERVAL_MS: String(INTERVAL_MS) });
  });
  afterAll(() => bed?.close());

  async function samplesOn(client: RawClient, id: string): Promise<number> {
    const answer = await call(client, "container:stats_history", { id });
    if (!answer.ok) throw new Error(`stats_history: ${answer.error.code}`);
    return (answer.data as { samples: unknown[] }).samples.length;
  }

  it("gathers on the other server a workload started on one, and frees it there when it stops on the first", async () => {
    const [one, two] = bed.servers;
    const [onOne, onTwo] = await Promise.all([one!.connectRaw("alice"), two!.connectRaw("alice")]);
    const { id } = await ok(onOne, "container:create", { name: "sampled-elsewhere", code: await echoCode() });
    await eventually(15_000, "samples on the other server", async () => {
      const n = await samplesOn(onTwo, id);
      return n >= 2 || `${n} samples`;
    });
    await ok(onOne, "container:stop", { id });
    await eventually(15_000, "the other server's history freed", async () => {
      const n = await samplesOn(onTwo, id);
      return n === 0 || `${n} samples still`;
    });
    await ok(onOne, "container:delete", { id });
    expect(await samplesOn(onTwo, id).catch((err: Error) => err.message)).toBe("stats_history: NOT_FOUND");
  });
});
