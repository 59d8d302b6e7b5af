import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, ok, type RawClient, startTestServer, type TestServer } from "../helpers/test-server.ts";

describe("the transport limit", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      BERTH_MAX_PAYLOAD_BYTES: String(2 * 1024 * 1024),
      BERTH_MAX_CODE_BYTES: String(1024 * 1024),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers a code field over its own limit with VALIDATION_FAILED, and keeps the connection", async () => {
    const alice = await server.connectRaw("alice");
    const res = await call(alice, "container:create", {
      name: "big",
      code: { files: { "a.js": "x".repeat(1_500_000) } },
    });
    expect(res).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    expect(alice.connected).toBe(true);
  });

  it("closes the connection of a message above BERTH_MAX_PAYLOAD_BYTES, and serves the next one", async () => {
    const alice: RawClient = await server.connectRaw("alice");
    const closed = new Promise<string>((resolve) => alice.once("disconnect", resolve));
    const raw = alice as unknown as { emit(event: string, ...args: unknown[]): void };
    raw.emit("container:create", { name: "huge", code: { files: { "a.js": "x".repeat(3_000_000) } } });
    expect(await closed).toMatch(/transport (close|error)/);
    const again = await server.connectRaw("alice");
    expect((await ok(again, "container:list", {})).items).toEqual([]);
  });
});
