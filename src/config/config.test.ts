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
    [{ BERTH_DEFAULT_CPUS: "0.001" }, "BERTH_DEFAULT_CPUS"],
    [{ BERTH_DEFAULT_CPUS: "3", BERTH_MAX_CPUS: "2" }, "BERTH_DEFAULT_CPUS"],
    [{ BERTH_MAX_CPUS: "1e-12" }, "BERTH_MAX_CPUS"],
    [
      { BERTH_DATA_DIR: "/srv/berth", BERTH_SECRET_KEY_FILE: "/srv/berth/secret.key" },
      "BERTH_SECRET_KEY_FILE",
    ],
  ])("refuses %j naming the variable", (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});
