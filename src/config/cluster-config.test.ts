import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { ConfigError } from "./config-error.ts";

const DB = "postgresql://berth@localhost/berth";
const AGENT_TOKEN = "a".repeat(40);

describe("BERTH_CLUSTER", () => {
  it("is off unless asked for: single-host mode needs nothing more", () => {
    expect(loadConfig({}).cluster).toBe(false);
    expect(loadConfig({ BERTH_DATABASE_URL: DB, BERTH_AGENT_TOKEN: AGENT_TOKEN }).cluster).toBe(false);
  });

  it("is on with the shared store and the agents' token", () => {
    expect(
      loadConfig({ BERTH_CLUSTER: "true", BERTH_DATABASE_URL: DB, BERTH_AGENT_TOKEN: AGENT_TOKEN }).cluster,
    ).toBe(true);
  });

  it("refuses to start without the store every API server shares, or without the agents' token", () => {
    expect(() => loadConfig({ BERTH_CLUSTER: "true", BERTH_AGENT_TOKEN: AGENT_TOKEN })).toThrow(ConfigError);
    expect(() => loadConfig({ BERTH_CLUSTER: "true", BERTH_AGENT_TOKEN: AGENT_TOKEN })).toThrow(
      /BERTH_DATABASE_URL/,
    );
    expect(() => loadConfig({ BERTH_CLUSTER: "true", BERTH_DATABASE_URL: DB })).toThrow(/BERTH_AGENT_TOKEN/);
  });
});

describe("BERTH_AGENT_CHANNEL_LANES", () => {
  it("offers the agents a channel lane unless told not to, and takes nothing but a boolean", () => {
    expect(loadConfig({ BERTH_AGENT_TOKEN: AGENT_TOKEN }).agentChannelLanes).toBe(true);
    expect(
      loadConfig({ BERTH_AGENT_TOKEN: AGENT_TOKEN, BERTH_AGENT_CHANNEL_LANES: "false" }).agentChannelLanes,
    ).toBe(false);
    expect(() => loadConfig({ BERTH_AGENT_CHANNEL_LANES: "sometimes" })).toThrow(ConfigError);
  });
});
