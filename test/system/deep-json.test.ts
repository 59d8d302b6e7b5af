import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import type { AckResponse, ContainerMessageEvent } from "#protocol";
import { within } from "../helpers/deadline.ts";
import { call, echoCode, ok, type RawClient, useTestServer } from "../helpers/test-server.ts";

/** Arrays nested `levels` deep, built without recursion. */
function nested(levels: number): unknown {
  let v: unknown = "bottom";
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

/** JSON text of arrays nested `levels` deep. */
const deepText = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

/** As deep as the finding: zod's z.json() overflowed the stack on it and berth answered INTERNAL. */
const DEEP = deepText(10_000);

let rawAckId = 1_000_000;

/**
 * Emits `event` with a payload given as JSON text, straight onto the
 * Engine.IO connection, and resolves with the acknowledgement. The client's
 * own encoder cannot be used: it walks the payload recursively too (hasBinary,
 * JSON.stringify) and overflows the test's stack first.
 */
function rawCall(client: RawClient, event: string, payloadJson: string): Promise<AckResponse<unknown>> {
  const id = rawAckId++;
  const engine = (client.io as unknown as { engine: RawEngine }).engine;
  return new Promise((resolve) => {
    const onMessage = (data: unknown) => {
      const prefix = `3${id}[`; // a Socket.IO ACK packet (Engine.IO has taken off its own "4")
      if (typeof data !== "string" || !data.startsWith(prefix)) return;
      engine.off("message", onMessage);
      resolve((JSON.parse(data.slice(prefix.length - 1)) as [AckResponse<unknown>])[0]);
    };
    engine.on("message", onMessage);
    engine.write(`2${id}[${JSON.stringify(event)},${payloadJson}]`); // a Socket.IO EVENT with an ack id
  });
}
interface RawEngine {
  write(text: string): void;
  on(event: "message", listener: (data: unknown) => void): void;
  off(event: "message", listener: (data: unknown) => void): void;
}

describe("JSON nested too deep", () => {
  const server = useTestServer();
  let alice: RawClient;
  let bob: RawClient;
  let echo: string;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([server.connectRaw("alice"), server.connectRaw("bob")]);
    echo = (await ok(alice, "container:create", { name: "deep-echo", code: await echoCode() })).id;
  });

  describe("from a client", () => {
    const code = `"code":{"files":{"index.js":""}}`;
    it.each([
      [
        "a create's healthCheck.request",
        "container:create",
        () => `{"name":"deep","healthCheck":{"request":${DEEP}}}`,
      ],
      [
        "a create's healthCheck.expect",
        "container:create",
        () => `{"name":"deep","healthCheck":{"request":"ping","expect":${DEEP}}}`,
      ],
      [
        "an update's healthCheck.request",
        "container:update",
        () => `{"id":"${echo}",${code},"healthCheck":{"request":${DEEP}}}`,
      ],
      [
        "an update's healthCheck.expect",
        "container:update",
        () => `{"id":"${echo}",${code},"healthCheck":{"request":1,"expect":${DEEP}}}`,
      ],
      ["a request's data", "container:request", () => `{"id":"${echo}","data":${DEEP}}`],
      ["a message's data", "container:send", () => `{"id":"${echo}","data":${DEEP}}`],
    ] as const)(
      "refuses %s as VALIDATION_FAILED, and answers the next request",
      async (_what, event, payload) => {
        const res = await rawCall(alice, event, payload());
        expect(res).toMatchObject({
          ok: false,
          error: { code: "VALIDATION_FAILED", category: "validation" },
        });
        expect(JSON.stringify(res)).toMatch(/at most 64 levels/);
        expect(await ok(alice, "container:request", { id: echo, data: { still: "up" } })).toEqual({
          still: "up",
        });
      },
    );

    it("accepts data 64 levels deep and refuses 65", async () => {
      expect(await ok(alice, "container:request", { id: echo, data: nested(64) })).toEqual(nested(64));
      const res = await call(alice, "container:request", { id: echo, data: nested(65) });
      expect(res).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    });

    it("refuses bob's deep payload the same way, without touching alice's container", async () => {
      const res = await rawCall(bob, "container:request", `{"id":"${echo}","data":${DEEP}}`);
      // Validation comes first, so bob learns nothing about alice's container either way.
      expect(res).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
      expect((await ok(alice, "container:status", { id: echo })).state).toBe("running");
    });
  });

  it("closes only the sender's connection for a deep binary event, which Socket.IO's parser rebuilds recursively", async () => {
    // Found while looking for the same bug elsewhere: the overflow happens inside Socket.IO's decoder,
    // before berth sees the event; Socket.IO then closes that one connection, and berth goes on.
    const mallory = await server.connectRaw("alice");
    const closed = new Promise((resolve) => mallory.once("disconnect", resolve));
    const engine = (mallory.io as unknown as { engine: RawEngine & { write(data: Buffer): void } }).engine;
    const placeholder = '{"_placeholder":true,"num":0}';
    engine.write(
      `51-${rawAckId++}["container:request",{"id":"${echo}","data":${"[".repeat(100_000)}${placeholder}${"]".repeat(100_000)}}]`,
    );
    engine.write(Buffer.from("attachment"));
    expect(await within(10_000, "the sender disconnected", closed)).toBe("transport close");
    expect(await ok(bob, "container:list", {})).toMatchObject({ items: [] });
    expect(await ok(alice, "container:request", { id: echo, data: "still up" })).toBe("still up");
  });

  describe("from a workload", () => {
    let deep: string;
    const aliceMessages: ContainerMessageEvent[] = [];
    const bobMessages: ContainerMessageEvent[] = [];

    beforeAll(async () => {
      const code = await readFile(new URL("../fixtures/workloads/deep-frames.js", import.meta.url), "utf8");
      deep = (
        await ok(alice, "container:create", { name: "deep-frames", code: { files: { "index.js": code } } })
      ).id;
      const bobs = await ok(bob, "container:create", { name: "bob-echo", code: await echoCode() });
      alice.on("container:message", (e) => aliceMessages.push(e));
      bob.on("container:message", (e) => bobMessages.push(e));
      await ok(alice, "container:subscribe", { id: deep });
      await ok(bob, "container:subscribe", { id: bobs.id });
    });

    it("drops a message half a million levels deep as a bad frame; the subscriber gets only what follows", async () => {
      const after = new Promise<void>((resolve) =>
        alice.on("container:message", (e) => e.id === deep && e.data === "after" && resolve()),
      );
      expect(await ok(alice, "container:request", { id: deep, data: "deep-message" })).toBe("sent");
      await within(10_000, "the message after the deep one", after);
      expect(aliceMessages.filter((m) => m.id === deep).map((m) => m.data)).toEqual(["after"]);
      expect(bobMessages).toEqual([]);
      expect(server.logs()).toMatch(/"code":"BAD_FRAME"[^\n]*"msg":"dropped bad frame"/);
      expect((await ok(alice, "container:status", { id: deep })).channel?.connected).toBe(true);
    });

    it("answers a request whose answer is that deep with WORKLOAD_ERROR at once, and goes on", async () => {
      const res = await call(alice, "container:request", {
        id: deep,
        data: "deep-answer",
        timeoutMs: 20_000,
      });
      expect(res).toMatchObject({
        ok: false,
        error: { code: "WORKLOAD_ERROR", details: { code: "BAD_FRAME" } },
      });
      expect(await ok(alice, "container:request", { id: deep, data: "still here" })).toBe("still here");
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
    });
  });
});
