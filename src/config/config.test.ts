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
    expect(c.runtimeImages).toEqual({ node: "berth/runtime-node:24", python: "berth/runtime-python:3.11" });
    expect(c.allowedImages).toEqual(["berth/runtime-node:24", "berth/runtime-python:3.11"]);
    expect(c.runDir).toBe(`${c.dataDir}/run`);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("limits a workload's output to 1 MiB/s by default, and turns the limit off with 0", () => {
    expect(loadConfig({}).outputRateLimit).toBe(1024 * 1024);
    expect(loadConfig({ BERTH_OUTPUT_RATE_LIMIT: "0" }).outputRateLimit).toBe(0);
    expect(loadConfig({ BERTH_OUTPUT_RATE_LIMIT: "524288" }).outputRateLimit).toBe(524_288);
    expect(() => loadConfig({ BERTH_OUTPUT_RATE_LIMIT: "-1" })).toThrow(ConfigError);
  });

  it("refuses an output limit asked for without the stats history that judges it, and turns the default off with it", () => {
    expect(() =>
      loadConfig({ BERTH_STATS_HISTORY_INTERVAL_MS: "0", BERTH_OUTPUT_RATE_LIMIT: "1048576" }),
    ).toThrow(/BERTH_OUTPUT_RATE_LIMIT: the output limit is judged on the stats history's samples/);
    expect(loadConfig({ BERTH_STATS_HISTORY_INTERVAL_MS: "0" }).outputRateLimit).toBe(0);
    expect(loadConfig({ BERTH_STATS_HISTORY_INTERVAL_MS: "60000" }).outputRateLimit).toBe(1024 * 1024);
  });

  it("budgets what a workload sends unasked at 5,000 frames and 8 MiB a second by default; 0 turns each off", () => {
    expect(loadConfig({})).toMatchObject({
      channelMessageRate: 5000,
      channelMessageBytesRate: 8 * 1024 * 1024,
    });
    expect(
      loadConfig({ BERTH_CHANNEL_MESSAGE_RATE: "0", BERTH_CHANNEL_MESSAGE_BYTES_RATE: "0" }),
    ).toMatchObject({ channelMessageRate: 0, channelMessageBytesRate: 0 });
    expect(() => loadConfig({ BERTH_CHANNEL_MESSAGE_RATE: "-1" })).toThrow(ConfigError);
    expect(() => loadConfig({ BERTH_CHANNEL_MESSAGE_BYTES_RATE: "1.5" })).toThrow(ConfigError);
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

  it("keeps metrics on, behind the admin token, without a per-container label by default", () => {
    expect(loadConfig({}).metrics).toEqual({ enabled: true, public: false, perContainer: false });
    expect(
      loadConfig({ BERTH_METRICS: "false", BERTH_METRICS_PUBLIC: "true", BERTH_METRICS_PER_CONTAINER: "1" })
        .metrics,
    ).toEqual({ enabled: false, public: true, perContainer: true });
    expect(() => loadConfig({ BERTH_METRICS_PUBLIC: "maybe" })).toThrow(/BERTH_METRICS_PUBLIC/);
  });

  it("reads tokens, allowed images and limits", () => {
    const c = loadConfig({
      BERTH_TOKENS: "alice:aaaaaaaa, bob:bbbbbbbb",
      BERTH_ALLOWED_IMAGES: "a:1,b:2",
      BERTH_DEFAULT_IMAGE: "b:2",
      BERTH_ALLOW_NETWORK: "true",
      BERTH_PORT: "0",
    });
    expect([...c.tokens]).toEqual([
      ["alice", "aaaaaaaa"],
      ["bob", "bbbbbbbb"],
    ]);
    expect(c.allowedImages).toEqual(["b:2", "berth/runtime-python:3.11", "a:1"]);
    expect(c.allowNetwork).toBe(true);
    expect(c.port).toBe(0);
  });

  describe("runtime images", () => {
    it("allow every runtime's image, whatever BERTH_ALLOWED_IMAGES lists", () => {
      const c = loadConfig({ BERTH_ALLOWED_IMAGES: "a:1,b:2" });
      expect(c.allowedImages).toEqual(["berth/runtime-node:24", "berth/runtime-python:3.11", "a:1", "b:2"]);
      expect(c.defaultImage).toBe("berth/runtime-node:24");
    });

    it("take BERTH_RUNTIME_IMAGES over berth's own, runtime by runtime", () => {
      const c = loadConfig({ BERTH_RUNTIME_IMAGES: "python=acme/py:3.12" });
      expect(c.runtimeImages).toEqual({ node: "berth/runtime-node:24", python: "acme/py:3.12" });
      const d = loadConfig({ BERTH_RUNTIME_IMAGES: " node=acme/node:24 , python=acme/py:3.12 " });
      expect(d.runtimeImages).toEqual({ node: "acme/node:24", python: "acme/py:3.12" });
      expect(d.defaultImage).toBe("acme/node:24");
    });

    it("turn a runtime off with an empty image: it is neither offered nor allowed", () => {
      const c = loadConfig({ BERTH_RUNTIME_IMAGES: "python=", BERTH_ALLOWED_IMAGES: "acme/bot:1" });
      expect(c.runtimeImages).toEqual({ node: "berth/runtime-node:24" });
      expect(c.allowedImages).toEqual(["berth/runtime-node:24", "acme/bot:1"]);
      // The node runtime takes another image instead, never none.
      const d = loadConfig({ BERTH_RUNTIME_IMAGES: "python=", BERTH_DEFAULT_IMAGE: "acme/node:24" });
      expect(d.runtimeImages).toEqual({ node: "acme/node:24" });
    });

    it("read BERTH_DEFAULT_IMAGE as the node runtime's image, the default", () => {
      const c = loadConfig({ BERTH_DEFAULT_IMAGE: "acme/node:24" });
      expect(c.runtimeImages.node).toBe("acme/node:24");
      expect(c.defaultImage).toBe("acme/node:24");
      // Both may say it when they agree.
      const d = loadConfig({
        BERTH_DEFAULT_IMAGE: "acme/node:24",
        BERTH_RUNTIME_IMAGES: "node=acme/node:24",
      });
      expect(d.defaultImage).toBe("acme/node:24");
    });

    it.each([
      [
        { BERTH_DEFAULT_IMAGE: "a:1", BERTH_RUNTIME_IMAGES: "node=b:2" },
        /BERTH_DEFAULT_IMAGE 'a:1' and BERTH_RUNTIME_IMAGES node=b:2 disagree/,
      ],
      [{ BERTH_RUNTIME_IMAGES: "ruby=r:3" }, /'ruby' is not a runtime berth knows \(node, python\)/],
      [{ BERTH_RUNTIME_IMAGES: "python" }, /'python' is not RUNTIME=IMAGE/],
      [{ BERTH_RUNTIME_IMAGES: "=a:1" }, /'=a:1' is not RUNTIME=IMAGE/],
      [{ BERTH_RUNTIME_IMAGES: "node=" }, /'node=' would turn off the node runtime, which cannot be/],
      [{ BERTH_RUNTIME_IMAGES: "python=,python=a:1" }, /'python' is named twice/],
      [{ BERTH_RUNTIME_IMAGES: "python=a:1,python=b:2" }, /'python' is named twice/],
      [{ BERTH_RUNTIME_IMAGES: "node=a:1,python=a:1" }, /'node' and 'python' have the same image a:1/],
      [{ BERTH_DEFAULT_IMAGE: "berth/runtime-python:3.11" }, /'node' and 'python' have the same image/],
    ])("refuse a contradiction at start-up: %o", (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  });

  it("reads per-owner quotas, rate limits and the engine queue's bounds", () => {
    const d = loadConfig({});
    expect(d.quota).toEqual({ containers: 20, running: 8, memoryMb: 2048, cpus: 4, codeMb: 256 });
    expect(d.rateLimits).toEqual({
      create: { perMinute: 30, burst: 10 },
      lifecycle: { perMinute: 120, burst: 30 },
      update: { perMinute: 12, burst: 5 },
    });
    expect(d.engineQueue).toEqual({ concurrency: 4, maxWaitingPerOwner: 16, maxWaiting: 64 });
    const c = loadConfig({
      BERTH_QUOTA_CPUS: "1.5",
      BERTH_RATE_CREATE_PER_MIN: "0",
      BERTH_ENGINE_CONCURRENCY: "2",
    });
    expect(c.quota.cpus).toBe(1.5);
    expect(c.rateLimits.create.perMinute).toBe(0);
    expect(c.engineQueue.concurrency).toBe(2);
  });

  it("reads egress ranges as normalised IPv4 CIDRs", () => {
    const c = loadConfig({
      BERTH_EGRESS_ALLOW: "10.1.2.3/8, 192.168.1.5",
      BERTH_EGRESS_BLOCK: "203.0.113.0/24",
    });
    expect(c.egressAllow).toEqual(["10.0.0.0/8", "192.168.1.5/32"]);
    expect(c.egressBlock).toEqual(["203.0.113.0/24"]);
    expect(loadConfig({}).egressAllow).toEqual([]);
  });

  it("refuses an owner named admin in any case, a token given twice, and names BERTH_TOKENS", () => {
    expect(() => loadConfig({ BERTH_TOKENS: "Admin:aaaaaaaa" })).toThrow(/BERTH_TOKENS: 'admin' is reserved/);
  });

  it("reads the tokens file's path (absolute) and the connection caps", () => {
    const c = loadConfig({ BERTH_TOKENS_FILE: "tokens", BERTH_MAX_CONNECTIONS_PER_OWNER: "4" });
    expect(c.tokensFile).toMatch(/^\/.*\/tokens$/);
    expect(c.maxConnectionsPerOwner).toBe(4);
    expect(loadConfig({})).toMatchObject({
      tokensFile: undefined,
      maxConnectionsPerOwner: 32,
      handshakesPerMinute: 120,
    });
  });

  it.each([
    [{ BERTH_QUOTA_CONTAINERS: "0" }, "BERTH_QUOTA_CONTAINERS"],
    [{ BERTH_QUOTA_CPUS: "0.001" }, "BERTH_QUOTA_CPUS"],
    [{ BERTH_RATE_CREATE_BURST: "0" }, "BERTH_RATE_CREATE_BURST"],
    [{ BERTH_ENGINE_CONCURRENCY: "0" }, "BERTH_ENGINE_CONCURRENCY"],
    [{ BERTH_PORT: "seventy" }, "BERTH_PORT"],
    [{ BERTH_TOKENS: "no-colon" }, "BERTH_TOKENS"],
    [{ BERTH_TOKENS: "alice:short" }, "BERTH_TOKENS"],
    [{ BERTH_UID_RANGE: "5-1" }, "BERTH_UID_RANGE"],
    [{ BERTH_MAX_CODE_BYTES: "99999999999" }, "BERTH_MAX_CODE_BYTES"],
    [{ BERTH_LOG_LEVEL: "loud" }, "BERTH_LOG_LEVEL"],
    [{ BERTH_EGRESS_ALLOW: "10.0.0.0/33" }, "BERTH_EGRESS_ALLOW"],
    [{ BERTH_EGRESS_ALLOW: "fc00::/7" }, "BERTH_EGRESS_ALLOW"],
    [{ BERTH_EGRESS_BLOCK: "example.com" }, "BERTH_EGRESS_BLOCK"],
    [{ BERTH_TOKENS: "admin:aaaaaaaa" }, "BERTH_TOKENS"],
    [{ BERTH_TOKENS: "alice:aaaaaaaa,ADMIN:bbbbbbbb" }, "BERTH_TOKENS"],
    [{ BERTH_TOKENS: "alice:aaaaaaaa,bob:aaaaaaaa" }, "BERTH_TOKENS"],
    [{ BERTH_TOKENS: "alice:aaaaaaaa", BERTH_ADMIN_TOKEN: "aaaaaaaa" }, "BERTH_TOKENS"],
    [{ BERTH_TOKENS: "alice:aaaaaaaa", BERTH_TOKENS_FILE: "/etc/berth/tokens" }, "BERTH_TOKENS_FILE"],
    [{ BERTH_MAX_CONNECTIONS_PER_OWNER: "-1" }, "BERTH_MAX_CONNECTIONS_PER_OWNER"],
    [{ BERTH_HANDSHAKES_PER_MINUTE: "many" }, "BERTH_HANDSHAKES_PER_MINUTE"],
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
