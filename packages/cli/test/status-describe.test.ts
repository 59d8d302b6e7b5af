import type { ContainerInfo } from "@berth/client";
import { describe, expect, it } from "vitest";
import { describe as describeStatus } from "../src/commands/status.ts";

const info: ContainerInfo = {
  id: "C0123456789A",
  name: "web",
  owner: "alice",
  image: "berth/runtime-node:24",
  labels: {},
  state: "running",
  health: "none",
  createdAt: 1_000,
  startedAt: 2_000,
  restartCount: 0,
  restartPolicy: "no",
  network: "none",
};
const spec = {
  env: { MODE: "prod" },
  secretEnvKeys: ["API_KEY"],
  resources: { memoryMb: 256, cpus: 1, pids: 256 },
};

describe("berth status's lines", () => {
  it("prints the spec's lines only when berth sent a spec", () => {
    expect(describeStatus(info, 3_000).map(([k]) => k)).not.toContain("Env");
    const lines = new Map(describeStatus({ ...info, spec }, 3_000));
    expect(lines.get("Env")).toBe('MODE="prod"');
    expect(lines.get("Secret env")).toBe("API_KEY (values hidden)");
    expect(lines.has("Cut")).toBe(false);
  });

  it("says in words what berth cut from the spec", () => {
    const truncated = { env: ["CA"], args: [1], omittedEnv: 12, omittedArgs: 0, healthCheck: false };
    const lines = new Map(describeStatus({ ...info, spec: { ...spec, truncated } }, 3_000));
    expect(lines.get("Cut")).toBe(
      "env CA cut to their first 1,024 characters; 1 command argument(s) cut likewise; 12 more env entries not shown",
    );
  });
});
