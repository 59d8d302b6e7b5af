import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
import { eventually } from "../helpers/deadline.ts";
import { helloThen, nextStatus } from "../helpers/events.ts";
import { type Client, call, echoCode, useTestServer } from "../helpers/test-server.ts";

/** A fast history, so that a few samples gather within a test: one kept every 250 ms. */
const INTERVAL_MS = 250;

describe("resource-sample history", () => {
  const server = useTestServer({ BERTH_STATS_HISTORY_INTERVAL_MS: String(INTERVAL_MS) });
  let alice: Client;
  let bob: Client;
  let bot: Container;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    bot = await alice.containers.create({ name: "sampled", code: await echoCode() });
  });
  afterAll(async () => {
    await bot.delete().catch(() => {});
  });

  it("gathers samples of a running container with nobody watching it, oldest first", async () => {
    await eventually(10_000, "three samples in the history", async () => {
      const { samples } = await bot.statsHistory();
      return samples.length >= 3 || `${samples.length} samples`;
    });
    const history = await bot.statsHistory();
    expect(history).toMatchObject({ id: bot.id, intervalMs: INTERVAL_MS });
    const ts = history.samples.map((s) => s.ts);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    // One kept per interval, never two within most of one.
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBeGreaterThanOrEqual(INTERVAL_MS * 0.8);
    for (const sample of history.samples) {
      expect(sample.memoryBytes).toBeGreaterThan(0);
      expect(sample.memoryLimitBytes).toBeGreaterThan(0);
    }
  });

  it("answers the overview's histories for the caller's running containers", async () => {
    const all = await alice.stats.history();
    expect(all.intervalMs).toBe(INTERVAL_MS);
    expect(all.truncated).toBeUndefined();
    const mine = all.containers.find((c) => c.id === bot.id);
    expect(mine?.samples.length).toBeGreaterThan(0);
  });

  it("shows bob nothing of alice's history: not by id, not by name, not in his overview", async () => {
    for (const ref of [bot.id, bot.name]) {
      const aboutAlice = await call(bob, "container:stats_history", { id: ref });
      const aboutNobody = await call(bob, "container:stats_history", { id: "C00000000000" });
      expect(aboutAlice.ok).toBe(false);
      expect(JSON.stringify(aboutAlice).split(ref).join("<ref>")).toBe(
        JSON.stringify(aboutNobody).split("C00000000000").join("<ref>"),
      );
    }
    const overview = await bob.stats.history();
    expect(overview.containers).toEqual([]);
    expect(JSON.stringify(overview)).not.toContain(bot.id);
  });

  it("frees a container's history when it stops, and its handle is gone once deleted", async () => {
    const short = await alice.containers.create({ name: "short-lived", code: await echoCode() });
    await eventually(10_000, "a sample of the short-lived container", async () => {
      return (await short.statsHistory()).samples.length > 0;
    });
    await short.stop({ timeoutSec: 0 });
    expect((await short.statsHistory()).samples).toEqual([]);
    await short.delete();
    const gone = await call(alice, "container:stats_history", { id: short.id });
    expect(gone).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    const overview = await alice.stats.history();
    expect(overview.containers.map((c) => c.id)).not.toContain(short.id);
  });
});

describe("restart count and start time", () => {
  const server = useTestServer({ BERTH_MAX_RESTARTS: "2", BERTH_RESTART_BASE_DELAY_MS: "100" });
  let alice: Client;
  const made: Container[] = [];

  beforeAll(async () => {
    alice = await server.connect("alice");
  });
  afterAll(async () => {
    for (const c of made) await c.delete().catch(() => {});
  });

  it("counts container:restart, keeps a client's stop and start out, and shows startedAt only while it runs", async () => {
    const bot = await alice.containers.create({ name: "counted", code: await echoCode() });
    made.push(bot);
    expect(bot.info).toMatchObject({ state: "running", restartCount: 0 });
    const firstStart = bot.info.startedAt;
    expect(firstStart).toEqual(expect.any(Number));

    const restartedEvent = nextStatus(alice, (e) => e.id === bot.id && e.to === "running");
    const restarted = await bot.restart({ timeoutSec: 0 });
    expect(restarted.restartCount).toBe(1);
    expect(restarted.startedAt).toBeGreaterThanOrEqual(firstStart ?? 0);
    // The pushed change carries both, so a page updates uptime and restarts without asking.
    expect(await restartedEvent).toMatchObject({ restartCount: 1, startedAt: restarted.startedAt });

    const stopped = await bot.stop({ timeoutSec: 0 });
    expect(stopped).toMatchObject({ state: "stopped", startedAt: null, restartCount: 1 });
    const started = await bot.start();
    expect(started.restartCount).toBe(1);
    expect(started.startedAt).toEqual(expect.any(Number));

    const listed = await alice.containers.list().page();
    expect(listed.items.find((c) => c.id === bot.id)).toMatchObject({ restartCount: 1 });
  });

  it("counts each start by the restart policy after a crash", async () => {
    const gaveUp = nextStatus(
      alice,
      (e) => e.name === "crashing" && e.to === "exited" && e.restartCount === 2,
    );
    const crashing = await alice.containers.create({
      name: "crashing",
      restartPolicy: "on-failure",
      code: helloThen("welcome.then(() => setTimeout(() => process.exit(3), 100));"),
    });
    made.push(crashing);
    expect(await gaveUp).toMatchObject({ startedAt: null });
    // Two restarts (BERTH_MAX_RESTARTS), then it stays exited: the count says so, and stays.
    expect(await crashing.status()).toMatchObject({ state: "exited", restartCount: 2, startedAt: null });
  });
});
