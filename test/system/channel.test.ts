import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerMessageEvent } from "#protocol";
import { type Container, isBerthError } from "../../packages/client/src/index.ts";
import { type Client, call, ok, useTestServer } from "../helpers/test-server.ts";

const channelCode = async () => ({
  files: { "index.js": await readFile(new URL("../fixtures/workloads/channel.js", import.meta.url), "utf8") },
});

describe("the channel, end to end: @berth/client → berth → Unix socket → workload", () => {
  // Long enough that an answer well before it proves the cause was found early, even on a loaded machine
  // where starting a container can take seconds. (The wait for a hello that never comes has a server of its own.)
  const server = useTestServer({ BERTH_READY_TIMEOUT_MS: "30000" });
  let alice: Client;
  let bob: Client;
  let bot: Container;
  let id: string;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    bot = await alice.containers.create({ name: "chan", code: await channelCode() });
    id = bot.id;
  });

  afterAll(async () => {
    await bot.delete();
  });

  it("round-trips requests and reports the channel's status", async () => {
    expect(await bot.request({ echo: { hello: "world", n: [1, 2] } })).toEqual({
      hello: "world",
      n: [1, 2],
    });
    const status = await bot.status();
    expect(status.channel).toMatchObject({ connected: true, protocol: 1 });
    expect(status.channel?.connectedAt).toBeGreaterThan(0);
  });

  it("keeps 1,000 requests in flight and matches answers that come back out of order", async () => {
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => bot.request({ delayMs: (i * 7919) % 50, value: i })),
    );
    expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("answers a workload's error as WORKLOAD_ERROR with its message and code", async () => {
    await expect(bot.request({ fail: "no such user" })).rejects.toMatchObject({
      code: "WORKLOAD_ERROR",
      category: "communication",
      details: { message: "no such user", code: "E_WORKLOAD" },
    });
  });

  it("answers CHANNEL_TIMEOUT when the workload never answers", async () => {
    const started = Date.now();
    await expect(bot.request({ never: true }, { timeoutMs: 300 })).rejects.toMatchObject({
      code: "CHANNEL_TIMEOUT",
      retryable: true,
    });
    // Its own 300 ms, not the 30 s default; the margin is for a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("delivers workload messages to subscribed, authorised clients only", async () => {
    // Bob has no handle on alice's container to subscribe with: the refusal is asked for directly.
    expect(await call(bob, "container:subscribe", { id })).toMatchObject({
      ok: false,
      error: { code: "NOT_FOUND" },
    });
    const bobGot: unknown[] = [];
    const offBob = bob.on("container:message", (m) => bobGot.push(m));
    const { promise: got, resolve } = Promise.withResolvers<ContainerMessageEvent>();
    const off = bot.onMessage((_data, event) => resolve(event));
    await off.ready;
    // Subscribing again answers as the first time did (the wire's answer, which the handle does not show).
    expect(await ok(alice, "container:subscribe", { id })).toEqual({ id, subscribed: true });
    await bot.send({ note: "ping" });
    expect(await got).toMatchObject({ id, data: { got: { note: "ping" } } });
    off();
    // A barrier: once this answers, berth has handled the handle's own unsubscribe, sent before it.
    await ok(alice, "container:unsubscribe", { id });
    // Listened to on the connection itself, so that it sees whatever berth still sends, not what the handle passes on.
    const none: unknown[] = [];
    const offNone = alice.on("container:message", (m) => none.push(m));
    await bot.request({ broadcast: "after unsubscribe" });
    await bot.request({ echo: "barrier" });
    offNone();
    offBob();
    expect(none).toEqual([]);
    expect(bobGot).toEqual([]);
  });

  it("survives a workload that sends garbage, and still answers", async () => {
    expect(await bot.request({ garbage: 5 })).toBe("garbled");
    expect(await bot.request({ echo: "still here" })).toBe("still here");
  });

  it("lets the workload neither remove nor replace its socket", async () => {
    const tried = await bot.request<Record<string, string>>({ replaceSocket: true });
    expect(tried).toEqual({ unlink: "EROFS", symlink: "EROFS", write: "EROFS" });
    expect(await bot.request({ echo: "ok" })).toBe("ok");
  });

  it("fails pending requests at once when the workload dies mid-request", async () => {
    const pending = bot.request({ never: true }, { timeoutMs: 20_000 });
    pending.catch(() => {}); // awaited below
    const started = Date.now();
    await bot.request({ die: true }, { timeoutMs: 20_000 }).catch(() => {});
    await expect(pending).rejects.toMatchObject({ code: "CHANNEL_DISCONNECTED" });
    // Well before its 20 s timeout; the margin is for a loaded machine.
    expect(Date.now() - started).toBeLessThan(15_000);
    await expect(bot.request({ echo: 1 })).rejects.toMatchObject({ code: "CHANNEL_NOT_CONNECTED" });
    // Started again, it is ready again.
    await bot.start();
    expect(await bot.request({ echo: 2 })).toBe(2);
  });

  it("answers NOT_READY bad_hello for a workload whose hello is wrong", async () => {
    const code = `const s = require("node:net").connect(process.env.BERTH_SOCKET, () => s.write('{"type":"hello","protocol":99}\\n')); s.on("error", () => {}); setInterval(() => {}, 1e6);`;
    const started = Date.now();
    await expect(
      alice.containers.create({ name: "wrong-hello", code: { files: { "index.js": code } } }),
    ).rejects.toMatchObject({ code: "NOT_READY", details: { cause: "bad_hello" } });
    expect(Date.now() - started).toBeLessThan(20_000); // well before the 30 s ready timeout
    await (await alice.containers.get("wrong-hello")).delete();
  });

  it("answers NOT_READY within seconds, naming the exit code, for a workload that exits at start", async () => {
    const started = Date.now();
    const err = await alice.containers
      .create({
        name: "exits",
        code: {
          files: {
            "index.js": "console.log('starting'); console.error('fatal: config missing'); process.exit(4);",
          },
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ code: "NOT_READY", details: { cause: "exited", exitCode: 4 } });
    // stdout and stderr are captured separately by the engine: their relative order is not guaranteed.
    expect([...(((isBerthError(err) ? err.details?.output : undefined) ?? []) as string[])].sort()).toEqual([
      "fatal: config missing",
      "starting",
    ]);
    expect(Date.now() - started).toBeLessThan(20_000); // well before the 30 s ready timeout
    const exits = await alice.containers.get("exits");
    expect(exits.info.state).toBe("exited");
    await exits.delete();
  });
});

describe("a workload that never says hello", () => {
  // A ready timeout of its own, short: this is the one test that waits it out.
  const server = useTestServer({ BERTH_READY_TIMEOUT_MS: "3000" });

  it("answers NOT_READY never_connected, and keeps it", async () => {
    const alice = await server.connect("alice");
    await expect(
      alice.containers.create({
        name: "silent",
        code: { files: { "index.js": "setInterval(() => {}, 1e6);" } },
      }),
    ).rejects.toMatchObject({ code: "NOT_READY", details: { cause: "never_connected" } });
    const silent = await alice.containers.get("silent");
    expect(silent.info.state).toBe("running");
    await silent.delete();
  });
});
