import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActivityEntry } from "#protocol";
import type { Container } from "../../packages/client/src/index.ts";
import { eventually } from "../helpers/deadline.ts";
import { collectActivity } from "../helpers/events.ts";
import { ADMISSION_OFF, type Client, echoCode, useTestServer } from "../helpers/test-server.ts";

/** A budget small enough that the flood is far over it even on two busy cores. */
const RATE = 500;
const COUNT_MS = 3_000;

const floodCode = async () => ({
  files: {
    "index.js": await readFile(new URL("../fixtures/workloads/message-flood.js", import.meta.url), "utf8"),
  },
});

describe("a workload flooding its channel with messages", () => {
  const server = useTestServer({
    ...ADMISSION_OFF,
    BERTH_CHANNEL_MESSAGE_RATE: String(RATE),
    // 1 s readings, so that the feed's entry (judged over 10 s) comes soon.
    BERTH_STATS_HISTORY_INTERVAL_MS: "1000",
  });
  let alice: Client;
  let bob: Client;
  let quiet: Container;
  let flood: Container;
  let bobFeed: ReturnType<typeof collectActivity>;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    bobFeed = collectActivity(bob);
    quiet = await alice.containers.create({ name: "quiet", code: await echoCode() });
    flood = await bob.containers.create({ name: "flood", code: await floodCode() });
  });
  afterAll(async () => {
    bobFeed?.stop();
    await Promise.allSettled([quiet?.delete(), flood?.delete()]);
  });

  it("is held near its budget, loses nothing, and neither another owner's requests nor its own stop answering", async () => {
    const got: number[] = [];
    const off = flood.onMessage((data) => got.push((data as { n: number }).n));
    await off.ready;
    await eventually(10_000, "the first messages at the subscriber", () => got.length > 0);
    // Counted over a window that ends when its timer fires, measured as it really was: on a loaded machine
    // the timer (and the request the loop is in when it ends) can run late, and messages keep coming meanwhile.
    const from = got.length;
    const startedAt = performance.now();
    let window: { counted: number; seconds: number } | undefined;
    const ends = setTimeout(() => {
      window = { counted: got.length - from, seconds: (performance.now() - startedAt) / 1000 };
    }, COUNT_MS);
    let answered = 0;
    try {
      while (window === undefined) {
        expect(await quiet.request({ answered })).toEqual({ answered });
        answered++;
      }
    } finally {
      clearTimeout(ends);
    }
    const { counted, seconds } = window;
    // The flooder's own channel still works: its answer comes once the frames it queued before it are read.
    const own = (await flood.request("still there", { timeoutMs: 25_000 })) as { echo: string };
    off();
    expect(own.echo).toBe("still there");
    // Without the budget berth reads tens of thousands a second. With it: a second's burst, the
    // rate, and at most one read's worth (64 KiB of ~100-byte frames) over. A bound from above
    // only — a busy machine can only make it fewer.
    expect(counted).toBeLessThan(RATE * (seconds + 1) + 700);
    expect(answered).toBeGreaterThan(0);
    // Nothing lost, nothing reordered: every number once, in order, from the first after the subscription.
    expect(got).toEqual(got.map((_, i) => got[0]! + i));
  }, 60_000);

  it("is told in its owner's feed, held back with the numbers", async () => {
    let entry: ActivityEntry | undefined;
    await eventually(30_000, "container.channel_flooded in bob's feed", () => {
      entry = bobFeed.entries.find(
        (e) => e.containerId === flood.id && e.action === "container.channel_flooded",
      );
      return entry !== undefined;
    });
    expect(entry?.details).toMatchObject({ messageRate: RATE, refusedFrames: 0 });
    expect(entry?.details?.holds).toBeGreaterThan(0);
    expect(entry?.message).toMatch(
      /flooded its channel: .*; berth held it back [\d,]+ times? \([\d.]+ s in all\) to its budget of 500 frames and 8 MiB a second sent unasked/,
    );
  }, 60_000);
});
