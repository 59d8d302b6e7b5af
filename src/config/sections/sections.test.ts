import { describe, expect, it } from "vitest";
import { AccessEnv } from "./access-config.ts";
import { ActivityEnv } from "./activity-config.ts";
import { AgentLinkEnv } from "./agent-link-config.ts";
import { ChannelEnv } from "./channel-config.ts";
import { CodeEnv } from "./code-config.ts";
import { ConnectionEnv } from "./connection-config.ts";
import { FanOutEnv } from "./fan-out-config.ts";
import { ImageEnv } from "./image-config.ts";
import { MonitoringEnv } from "./monitoring-config.ts";
import { NetworkEnv } from "./network-config.ts";
import { OwnerLimitsEnv } from "./owner-limits-config.ts";
import { ServerEnv } from "./server-config.ts";
import { WorkloadEnv } from "./workload-config.ts";

const SECTIONS = {
  ServerEnv,
  AccessEnv,
  ImageEnv,
  WorkloadEnv,
  NetworkEnv,
  CodeEnv,
  ChannelEnv,
  OwnerLimitsEnv,
  ConnectionEnv,
  MonitoringEnv,
  ActivityEnv,
  AgentLinkEnv,
  FanOutEnv,
};

describe("the sections of the config", () => {
  // loadConfig reads them as one object: a variable in two sections would be parsed by the later one only.
  it("name each variable in one section only", () => {
    const owners = new Map<string, string[]>();
    for (const [section, shape] of Object.entries(SECTIONS)) {
      for (const name of Object.keys(shape)) owners.set(name, [...(owners.get(name) ?? []), section]);
    }
    const twice = [...owners].filter(([, sections]) => sections.length > 1);
    expect(twice).toEqual([]);
  });
});
