import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

describe("loadConfig", () => {
  it("has working defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      host: "127.0.0.1",
      port: 7300,
      defaultImage: "berth/runtime-node:24",
      allowNetwork: false,
    });
    expect(c.allowedImages).toEqual(["berth/runtime-node:24"]);
    expect(c.runDir).toBe(`${c.dataDir}/run`);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("bounds each connection by default, and refuses a disconnect bound under the drop bound", () => {
    expect(loadConfig({})).toMatchObject({
      clientBufferBytes: 1024 * 1024,
      clientBufferMaxBytes: 16 * 1024 * 1024,
      clientBufferGraceMs: 10_000,
      maxRequestsInFlight: 1024,
      maxSubscriptions: 128,
    });
    expect(() =>
      loadConfig({ BERTH_CLIENT_BUFFER_BYTES: "2097152", BERTH_CLIENT_BUFFER_MAX_BYTES: "1048576" }),
    ).toThrow(/BERTH_CLIENT_BUFFER_MAX_BYTES must be above BERTH_CLIENT_BUFFER_BYTES/);
    expect(() => loadConfig({ BERTH_MAX_SUBSCRIPTIONS: "0" })).toThrow(ConfigError);
    expect(loadConfig({ BERTH_MAX_REQUESTS_IN_FLIGHT: "0" }).maxRequestsInFlight).toBe(0);
  });

  it("reads tokens, allowed images and limits", () => {
    const c = loadConfig({
      BERTH_TOKENS: "alice:aaaaaaaa, bob:bbbbbbbb",
      BERTH_ALLOWED_IMAGES: "a:1,b:2",
      BERTH_ALLOW_NETWORK: "true",
      BERTH_PORT: "0",
    });
    expect([...c.tokens]).toEqual([
      ["alice", "aaaaaaaa"],
      ["bob", "bbbbbbbb"],
    ]);
    expect(c.allowedImages).toEqual(["a:1", "b:2"]);
    expect(c.allowNetwork).toBe(true);
    expect(c.port).toBe(0);
  });

  it.each([
    [{ BERTH_PORT: "seventy" }, "BERTH_PORT"],
    [{ BERTH_TOKENS: "no-colon" }, "BERTH_TOKENS"],
    [{ BERTH_TOKENS: "alice:short" }, "BERTH_TOKENS"],
    [{ BERTH_UID_RANGE: "5-1" }, "BERTH_UID_RANGE"],
    [{ BERTH_MAX_CODE_BYTES: "99999999999" }, "BERTH_MAX_CODE_BYTES"],
    [{ BERTH_LOG_LEVEL: "loud" }, "BERTH_LOG_LEVEL"],
  ])("refuses %j naming the variable", (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
