import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { type Client, call, useTestServer } from "../helpers/test-server.ts";
import { versioned } from "../helpers/versioned.ts";

const packageVersion = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
).version;

/** `server:info`: the server's version and limits for any connection, and each owner's own quotas only. */
describe("server:info", () => {
  const server = useTestServer({
    BERTH_QUOTA_CONTAINERS: "4",
    BERTH_QUOTA_RUNNING: "3",
    BERTH_QUOTA_MEMORY_MB: "2048",
    BERTH_QUOTA_CPUS: "4",
    BERTH_QUOTA_CODE_MB: "16",
    BERTH_MAX_CODE_FILES: "321",
  });
  let alice: Client;
  let bob: Client;
  let admin: Client;

  beforeAll(async () => {
    [alice, bob, admin] = await Promise.all([
      server.connect("alice"),
      server.connect("bob"),
      server.connect("admin"),
    ]);
  });

  it("tells any connection berth's version, protocol, limits and images", async () => {
    const { config } = server.berth;
    for (const client of [alice, bob, admin]) {
      // What the SDK read at connect, and what berth answers when asked again.
      for (const info of [client.info, await client.call("server:info", {})]) {
        expect(info).toMatchObject({
          version: packageVersion,
          channelProtocol: 1,
          limits: {
            maxPayloadBytes: config.maxPayloadBytes,
            maxCodeBytes: config.maxCodeBytes,
            maxCodeFiles: 321,
            maxFrameBytes: config.maxFrameBytes,
            maxRequestTimeoutMs: config.maxRequestTimeoutMs,
          },
          timeouts: { readyMs: config.readyTimeoutMs, stopSec: config.stopTimeoutSec },
          images: { allowed: [...config.allowedImages], default: config.defaultImage },
        });
      }
    }
  });

  it("shows each owner its own quotas and usage, never another's", async () => {
    await alice.containers.create({ name: "one", code: versioned("v1"), resources: { memoryMb: 64 } });
    await alice.containers.create({ name: "two", start: false });
    // client.info is what berth said at connect; the usage now needs asking again.
    const mine = await alice.call("server:info", {});
    expect(mine.quota).toEqual({
      limits: { containers: 4, running: 3, memoryMb: 2048, cpus: 4, codeMb: 16 },
      usage: {
        containers: 2,
        running: 1,
        memoryMb: 64,
        cpus: expect.any(Number),
        codeBytes: expect.any(Number),
      },
    });
    expect(mine.quota?.usage.codeBytes).toBeGreaterThan(0);
    expect(mine.rates).toMatchObject({ create: { perMinute: expect.any(Number) } });

    const bobs = await bob.call("server:info", {});
    expect(bobs.quota?.usage).toEqual({ containers: 0, running: 0, memoryMb: 0, cpus: 0, codeBytes: 0 });
    // Nothing of alice's anywhere in bob's answer: not her name, not her containers' names.
    expect(JSON.stringify(bobs)).not.toMatch(/alice|"one"|"two"/);
  });

  it("shows the admin no quotas: the admin has none", async () => {
    for (const info of [admin.info, await admin.call("server:info", {})]) {
      expect(info.quota).toBeNull();
      expect(info.rates).toBeNull();
    }
  });

  it("refuses a payload with fields", async () => {
    const res = await call(alice, "server:info", { owner: "bob" });
    expect(res).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
  });
});
