import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BerthClient,
  type Container,
  type ContainerProgressEvent,
  connect,
  isBerthError,
} from "../../packages/client/src/index.ts";
import { eventually } from "../helpers/deadline.ts";
import { refused } from "../helpers/refused.ts";
import { echoCode, startTestServer, TOKENS, useTestServer } from "../helpers/test-server.ts";

/** A port where nothing listens: bound, then closed again. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("@berth/client: connecting", () => {
  const server = useTestServer();

  it("connects and reads server:info once, as client.info", async () => {
    const berth = await connect(server.url, { token: TOKENS.alice });
    try {
      expect(berth.state).toBe("connected");
      expect(berth.info.limits.maxPayloadBytes).toBeGreaterThan(0);
      expect(berth.info.images.allowed).toContain(berth.info.images.default);
    } finally {
      await berth.close();
    }
    expect(berth.state).toBe("closed");
  });

  it("rejects a bad token with UNAUTHORIZED and a message that says how to pass the token, without retrying", async () => {
    const started = Date.now();
    const err = await refused(connect(server.url, { token: "not-a-valid-token" }));
    expect(isBerthError(err, "UNAUTHORIZED")).toBe(true);
    if (!isBerthError(err, "UNAUTHORIZED")) return;
    expect(err.message).toMatch(/auth: \{ token/);
    expect(err.category).toBe("auth");
    expect(err.retryable).toBe(false);
    // Given up on the refusal, not on the 10 s connect timeout after retries; the margin is for a loaded machine.
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it("rejects at once with CONNECTION_FAILED, saying what to do, when nothing listens", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const err = await refused(connect(url, { token: TOKENS.alice }));
    expect(isBerthError(err, "CONNECTION_FAILED")).toBe(true);
    expect((err as Error).message).toContain(`nothing answered at ${url}: connection refused`);
    expect((err as Error).message).toContain("is berth running? Start it with `npm start` or `berth serve`");
    expect((err as { retryable: boolean }).retryable).toBe(true);
    // At once: not on the 10 s connect timeout; the margin is for a loaded machine.
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it("gives up with CONNECTION_FAILED after timeoutMs when the peer never answers", async () => {
    // A TCP server that accepts and says nothing.
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    try {
      const started = Date.now();
      const err = await refused(connect(`http://127.0.0.1:${port}`, { token: TOKENS.alice, timeoutMs: 500 }));
      expect(isBerthError(err, "CONNECTION_FAILED")).toBe(true);
      expect((err as Error).message).toContain("within 500 ms");
      // Its own 500 ms, not the 10 s default; the margin is for a loaded machine.
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      silent.close();
    }
  });
});

describe("@berth/client: the connection cap", () => {
  it("rejects a connection over the owner's cap with TOO_MANY_CONNECTIONS, retryable, naming the limit", async () => {
    const server = await startTestServer({ BERTH_MAX_CONNECTIONS_PER_OWNER: "1" });
    const first = await connect(server.url, { token: TOKENS.alice });
    try {
      const err = await refused(connect(server.url, { token: TOKENS.alice }));
      expect(isBerthError(err, "TOO_MANY_CONNECTIONS")).toBe(true);
      expect(err).toMatchObject({ retryable: true, details: { limit: 1 } });
      expect(first.state).toBe("connected");
    } finally {
      await first.close();
      await server.close();
    }
  });
});

describe("@berth/client: containers", () => {
  const server = useTestServer();
  let alice: BerthClient;
  let bob: BerthClient;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([
      connect(server.url, { token: TOKENS.alice }),
      connect(server.url, { token: TOKENS.bob }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
  });

  it("creates with onProgress: every step in order, then the handle with its timings", async () => {
    const steps: ContainerProgressEvent[] = [];
    const bot = await alice.containers.create(
      { name: "progress-bot", code: await echoCode() },
      { onProgress: (e) => steps.push(e) },
    );
    try {
      expect(steps.map((e) => `${e.step}:${e.status}`)).toEqual(
        ["validate", "write", "create", "start", "ready"].flatMap((s) => [`${s}:started`, `${s}:done`]),
      );
      expect(steps.every((e) => e.id === bot.id)).toBe(true);
      expect(bot.name).toBe("progress-bot");
      expect(bot.info.state).toBe("running");
      expect("timings" in bot.info && bot.info.timings.total).toBeGreaterThan(0);
    } finally {
      await bot.delete();
    }
  });

  it("takes a container through its whole lifecycle, each answer updating info", async () => {
    const bot = await alice.containers.create({
      name: "lifecycle-bot",
      code: await echoCode(),
      start: false,
    });
    expect(bot.info.state).toBe("created");
    expect((await bot.start()).state).toBe("running");
    expect(bot.info.state).toBe("running");
    expect((await bot.stop({ timeoutSec: 1 })).state).toBe("stopped");
    expect(bot.info.state).toBe("stopped");
    const restarted = await bot.restart({ onProgress: () => {} });
    expect(restarted.state).toBe("running");
    expect((await bot.status()).state).toBe("running");
    const again = await alice.containers.get("lifecycle-bot");
    expect(again.id).toBe(bot.id);
    expect(await bot.delete()).toMatchObject({ deleted: true });
    const err = await refused(alice.containers.get(bot.id));
    expect(isBerthError(err, "NOT_FOUND")).toBe(true);
  });

  it("round-trips requests, messages and workload errors", async () => {
    const bot = await alice.containers.create({ name: "echo-bot", code: await echoCode() });
    try {
      expect(await bot.request({ hello: "world" })).toEqual({ hello: "world" });
      const err = await refused(bot.request({ fail: "nope" }));
      expect(isBerthError(err, "WORKLOAD_ERROR")).toBe(true);

      const heard: unknown[] = [];
      const off = bot.onMessage((data) => heard.push(data));
      await off.ready;
      await bot.send({ n: 1 });
      await eventually(10_000, "the echoed message", () => heard.length === 1, 20);
      expect(heard).toEqual([{ echo: { n: 1 } }]);
      off();
      off(); // idempotent
    } finally {
      await bot.delete();
    }
  });

  it("fails with TIMEOUT when berth does not answer within timeoutMs, and with ABORTED on its signal", async () => {
    const late = await refused(
      alice.containers.create({ name: "slow-to-answer", code: await echoCode() }, { timeoutMs: 1 }),
    );
    expect(isBerthError(late, "TIMEOUT")).toBe(true);
    expect((late as Error).message).toContain("within 1 ms");
    const controller = new AbortController();
    const pending = alice.call("container:list", {}, { signal: controller.signal });
    controller.abort(new Error("changed my mind"));
    const aborted = await refused(pending);
    expect(isBerthError(aborted, "ABORTED")).toBe(true);
    expect((aborted as Error).cause).toMatchObject({ message: "changed my mind" });
    // berth went on with the create the client stopped waiting for.
    await eventually(20_000, "the create the client gave up on", async () => {
      const made = await alice.containers.get("slow-to-answer").catch(() => undefined);
      if (made?.info.state !== "running") return false;
      await made.delete();
      return true;
    });
  });

  it("lists every page with for await, and one page with .page()", async () => {
    const made: Container[] = [];
    for (let i = 0; i < 5; i++)
      made.push(
        await alice.containers.create({ name: `listed-${i}`, start: false, labels: { suite: "list" } }),
      );
    try {
      const names: string[] = [];
      for await (const info of alice.containers.list({ filter: { label: "suite=list" }, pageSize: 2 }))
        names.push(info.name);
      expect(names).toEqual(["listed-0", "listed-1", "listed-2", "listed-3", "listed-4"]);
      const first = await alice.containers.list({ filter: { label: "suite=list" } }).page({ limit: 2 });
      expect(first.items.map((i) => i.name)).toEqual(["listed-0", "listed-1"]);
      expect(first.nextCursor).toBeDefined();
    } finally {
      await Promise.all(made.map((c) => c.delete()));
    }
  });

  it("refuses code over berth's limits before sending, and the connection stays up", async () => {
    const { maxPayloadBytes, maxCodeBytes } = alice.info.limits;
    const big = "x".repeat(maxPayloadBytes + 1024);
    const err = await refused(
      alice.containers.create({ name: "too-big", code: { files: { "index.js": big } } }),
    );
    expect(isBerthError(err, "PAYLOAD_TOO_LARGE")).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain("maxPayloadBytes");
    expect(message).toContain("maxCodeBytes");
    expect((err as { details: Record<string, unknown> }).details).toMatchObject({
      maxPayloadBytes,
      maxCodeBytes,
    });

    // Over the transport limit in a message that is not code: refused too, and never sent.
    const bot = await alice.containers.create({ name: "still-here", start: false });
    try {
      const sent = await refused(bot.send(big));
      expect(isBerthError(sent, "PAYLOAD_TOO_LARGE")).toBe(true);
      expect((sent as Error).message).toMatch(/payload is .* MiB/);
      expect(alice.state).toBe("connected");
      expect((await bot.status()).name).toBe("still-here");
    } finally {
      await bot.delete();
    }
  });

  it("keeps owners apart: bob can neither get nor act on alice's container, and hears none of her events", async () => {
    const heardByBob: string[] = [];
    const offs = [
      bob.on("container:status_changed", (e) => heardByBob.push(e.id)),
      bob.on("container:health_changed", (e) => heardByBob.push(e.id)),
      bob.activity.on((e) => heardByBob.push(e.containerId ?? "")),
    ];
    const bot = await alice.containers.create({ name: "alices-own", code: await echoCode() });
    try {
      // Asked all at once, each refusal taken as it comes (a later one may answer before an earlier one).
      const refusals = await Promise.all(
        [
          bob.containers.get(bot.id),
          bob.containers.get("alices-own"),
          bob.call("container:stop", { id: bot.id }),
          bob.call("container:request", { id: bot.id, data: 1 }),
          bob.call("container:subscribe", { id: bot.id }),
        ].map((attempt) => refused(attempt)),
      );
      for (const refusal of refusals) expect(isBerthError(refusal, "NOT_FOUND")).toBe(true);
      const bobs: string[] = [];
      for await (const info of bob.containers.list()) bobs.push(info.id);
      expect(bobs).not.toContain(bot.id);
      await bot.restart();
    } finally {
      await bot.delete();
      for (const off of offs) off();
    }
    expect(heardByBob).not.toContain(bot.id);
  });
});
