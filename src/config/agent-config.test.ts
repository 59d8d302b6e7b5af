import { describe, expect, it } from "vitest";
import { loadAgentConfig } from "./agent-config.ts";
import { ConfigError, loadConfig } from "./config.ts";

const TOKEN = "a".repeat(64);
const AGENT = {
  BERTH_AGENT_SERVERS: "https://10.0.0.5:7300, https://api.example:443, http://127.0.0.1:7300",
  BERTH_AGENT_TOKEN: TOKEN,
};

/** The message of the ConfigError that `load` throws. */
function refusal(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("not refused");
}

describe("the node agent's configuration", () => {
  it("reads the servers, the token and its node's engine", () => {
    expect(loadAgentConfig({ ...AGENT, DOCKER_HOST: "unix:///run/d.sock" })).toEqual({
      servers: ["https://10.0.0.5:7300", "https://api.example:443", "http://127.0.0.1:7300"],
      agentToken: TOKEN,
      dockerSocket: "/run/d.sock",
      logLevel: "info",
      mountRoot: "/var/lib/berth-agent",
      allowHttp: false,
      // Its node's workload channels, with the API server's defaults.
      maxFrameBytes: 1024 * 1024,
      maxRequestTimeoutMs: 30_000,
      channelMessageRate: 5_000,
      channelMessageBytesRate: 8 * 1024 * 1024,
    });
    expect(loadAgentConfig({ ...AGENT, BERTH_MAX_FRAME_BYTES: "65536" }).maxFrameBytes).toBe(65_536);
    expect(loadAgentConfig({ ...AGENT, BERTH_AGENT_MOUNT_ROOT: "/srv/berth" }).mountRoot).toBe("/srv/berth");
    expect(refusal(() => loadAgentConfig({ ...AGENT, BERTH_AGENT_MOUNT_ROOT: "/" }))).toContain(
      "BERTH_AGENT_MOUNT_ROOT",
    );
    expect(loadAgentConfig({ ...AGENT, BERTH_DOCKER_SOCKET: "/x.sock" }).dockerSocket).toBe("/x.sock");
  });

  it("refuses plain http to another host, unless the operator says the network is its own", () => {
    const plain = { ...AGENT, BERTH_AGENT_SERVERS: "http://10.0.0.5:7300" };
    expect(refusal(() => loadAgentConfig(plain))).toContain("use https");
    expect(loadAgentConfig({ ...plain, BERTH_AGENT_ALLOW_HTTP: "true" })).toMatchObject({ allowHttp: true });
  });

  it("needs servers and a token", () => {
    expect(refusal(() => loadAgentConfig({ BERTH_AGENT_TOKEN: TOKEN }))).toContain(
      "BERTH_AGENT_SERVERS is required",
    );
    expect(refusal(() => loadAgentConfig({ BERTH_AGENT_SERVERS: "http://a:1" }))).toContain(
      "BERTH_AGENT_TOKEN is required",
    );
  });

  it("refuses a short token without quoting it", () => {
    const short = "short-token-0123456789";
    const message = refusal(() => loadAgentConfig({ ...AGENT, BERTH_AGENT_TOKEN: short }));
    expect(message).toContain("BERTH_AGENT_TOKEN must have 32–1024 bytes");
    expect(message).not.toContain(short);
  });

  it("refuses a server that is not an http(s) URL, or one with credentials", () => {
    for (const server of ["10.0.0.5:7300", "ws://a:1", "http://user:pw@a:1"])
      expect(
        refusal(() => loadAgentConfig({ ...AGENT, BERTH_AGENT_SERVERS: server })),
        server,
      ).toContain("BERTH_AGENT_SERVERS");
  });
});

describe("BERTH_AGENT_TOKEN on the API server", () => {
  it("is unset by default: single-host mode", () => {
    expect(loadConfig({}).agentToken).toBeUndefined();
    expect(loadConfig({ BERTH_AGENT_TOKEN: "" }).agentToken).toBeUndefined();
  });

  it("is taken when long enough, and refused when short, without being quoted", () => {
    expect(loadConfig({ BERTH_AGENT_TOKEN: TOKEN }).agentToken).toBe(TOKEN);
    const message = refusal(() => loadConfig({ BERTH_AGENT_TOKEN: "x".repeat(31) }));
    expect(message).toContain("BERTH_AGENT_TOKEN");
    expect(message).not.toContain("x".repeat(31));
  });

  it("must not be the admin's or an owner's token", () => {
    expect(refusal(() => loadConfig({ BERTH_AGENT_TOKEN: TOKEN, BERTH_ADMIN_TOKEN: TOKEN }))).toContain(
      "must differ",
    );
    expect(refusal(() => loadConfig({ BERTH_AGENT_TOKEN: TOKEN, BERTH_TOKENS: `alice:${TOKEN}` }))).toContain(
      "must differ",
    );
  });
});
