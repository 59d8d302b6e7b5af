import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import type { ContainerMessageEvent } from "#protocol";
import { type Client, call, ok, useTestServer } from "../helpers/test-server.ts";

const channelCode = async () => ({
  files: { "index.js": await readFile(new URL("../fixtures/workloads/channel.js", import.meta.url), "utf8") },
});

describe("the channel, end to end: socket.io-client → berth → Unix socket → workload", () => {
  // Long enough that an answer well before it proves the cause was found early, even on a loaded machine.
  const server = useTestServer({ BERTH_READY_TIMEOUT_MS: "8000" });
  let alice: Client;
  let bob: Client;
  let id: string;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    id = (await ok(alice, "container:create", { name: "chan", code: await channelCode() })).id;
  });

  it("round-trips requests and reports the channel's status", async () => {
    expect(
      await ok(alice, "container:request", { id, data: { echo: { hello: "world", n: [1, 2] } } }),
    ).toEqual({
      hello: "world",
      n: [1, 2],
    });
    const status = await ok(alice, "container:status", { id });
    expect(status.channel).toMatchObject({ connected: true, protocol: 1 });
    expect(status.channel?.connectedAt).toBeGreaterThan(0);
  });

  it("keeps 1,000 requests in flight and matches answers that come back out of order", async () => {
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        ok(alice, "container:request", { id, data: { delayMs: (i * 7919) % 50, value: i } }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("answers a workload's error as WORKLOAD_ERROR with its message and code", async () => {
    const res = await call(alice, "container:request", { id, data: { fail: "no such user" } });
    expect(res).toMatchObject({
      ok: false,
      error: {
        code: "WORKLOAD_ERROR",
        category: "communication",
        details: { message: "no such user", code: "E_WORKLOAD" },
      },
    });
  });

  it("answers CHANNEL_TIMEOUT when the workload never answers", async () => {
    const started = Date.now();
    const res = await call(alice, "container:request", { id, data: { never: true }, timeoutMs: 300 });
    expect(res).toMatchObject({ ok: false, error: { code: "CHANNEL_TIMEOUT", retryable: true } });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("delivers workload messages to subscribed, authorised clients only", async () => {
    expect(await call(bob, "container:subscribe", { id })).toMatchObject({
      ok: false,
      error: { code: "NOT_FOUND" },
    });
    expect(await ok(alice, "container:subscribe", { id })).toEqual({ id, subscribed: true });
    const bobGot: unknown[] = [];
    bob.on("container:message", (m) => bobGot.push(m));
    const got = new Promise<ContainerMessageEvent>((resolve) => alice.once("container:message", resolve));
    await ok(alice, "container:send", { id, data: { note: "ping" } });
    expect(await got).toMatchObject({ id, data: { got: { note: "ping" } } });
    await ok(alice, "container:unsubscribe", { id });
    const none: unknown[] = [];
    alice.on("container:message", (m) => none.push(m));
    await ok(alice, "container:request", { id, data: { broadcast: "after unsubscribe" } });
    await ok(alice, "container:request", { id, data: { echo: "barrier" } });
    expect(none).toEqual([]);
    expect(bobGot).toEqual([]);
  });

  it("survives a workload that sends garbage, and still answers", async () => {
    expect(await ok(alice, "container:request", { id, data: { garbage: 5 } })).toBe("garbled");
    expect(await ok(alice, "container:request", { id, data: { echo: "still here" } })).toBe("still here");
  });

  it("lets the workload neither remove nor replace its socket", async () => {
    const tried = (await ok(alice, "container:request", { id, data: { replaceSocket: true } })) as Record<
      string,
      string
    >;
    expect(tried).toEqual({ unlink: "EROFS", symlink: "EROFS", write: "EROFS" });
    expect(await ok(alice, "container:request", { id, data: { echo: "ok" } })).toBe("ok");
  });

  it("fails pending requests at once when the workload dies mid-request", async () => {
    const pending = call(alice, "container:request", { id, data: { never: true }, timeoutMs: 20_000 });
    const started = Date.now();
    await call(alice, "container:request", { id, data: { die: true }, timeoutMs: 20_000 });
    expect(await pending).toMatchObject({ ok: false, error: { code: "CHANNEL_DISCONNECTED" } });
    expect(Date.now() - started).toBeLessThan(5000);
    const res = await call(alice, "container:request", { id, data: { echo: 1 } });
    expect(res).toMatchObject({ ok: false, error: { code: "CHANNEL_NOT_CONNECTED" } });
    // Started again, it is ready again.
    await ok(alice, "container:start", { id });
    expect(await ok(alice, "container:request", { id, data: { echo: 2 } })).toBe(2);
  });

  it("answers NOT_READY never_connected for a workload that never says hello, and keeps it", async () => {
    const res = await call(alice, "container:create", {
      name: "silent",
      code: { files: { "index.js": "setInterval(() => {}, 1e6);" } },
    });
    expect(res).toMatchObject({
      ok: false,
      error: { code: "NOT_READY", details: { cause: "never_connected" } },
    });
    expect((await ok(alice, "container:status", { id: "silent" })).state).toBe("running");
  });

  it("answers NOT_READY bad_hello for a workload whose hello is wrong", async () => {
    const code = `const s = require("node:net").connect(process.env.BERTH_SOCKET, () => s.write('{"type":"hello","protocol":99}\\n')); s.on("error", () => {}); setInterval(() => {}, 1e6);`;
    const started = Date.now();
    const res = await call(alice, "container:create", {
      name: "wrong-hello",
      code: { files: { "index.js": code } },
    });
    expect(res).toMatchObject({ ok: false, error: { code: "NOT_READY", details: { cause: "bad_hello" } } });
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it("answers NOT_READY within seconds, naming the exit code, for a workload that exits at start", async () => {
    const started = Date.now();
    const res = await call(alice, "container:create", {
      name: "exits",
      code: {
        files: {
          "index.js": "console.log('starting'); console.error('fatal: config missing'); process.exit(4);",
        },
      },
    });
    expect(res).toMatchObject({
      ok: false,
      error: { code: "NOT_READY", details: { cause: "exited", exitCode: 4 } },
    });
    // stdout and stderr are captured separately by the engine: their relative order is not guaranteed.
    if (!res.ok)
      expect([...((res.error.details?.output ?? []) as string[])].sort()).toEqual([
        "fatal: config missing",
        "starting",
      ]);
    expect(Date.now() - started).toBeLessThan(6000);
    expect((await ok(alice, "container:status", { id: "exits" })).state).toBe("exited");
  });
});
