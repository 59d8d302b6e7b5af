import { describe, expect, it } from "vitest";
import type { Usage } from "../admission/container-usage.ts";
import { type ServerInfoSource, serverInfo } from "./server-info.ts";

describe("serverInfo", () => {
  const asked: string[] = [];
  const source: ServerInfoSource = {
    version: "9.9.9",
    config: {
      maxPayloadBytes: 100,
      maxCodeBytes: 50,
      maxCodeFiles: 5,
      maxFrameBytes: 10,
      maxRequestTimeoutMs: 1000,
      readyTimeoutMs: 15_000,
      stopTimeoutSec: 10,
      allowedImages: ["img:1", "img:2"],
      defaultImage: "img:1",
      rateLimits: {
        create: { perMinute: 1, burst: 1 },
        lifecycle: { perMinute: 2, burst: 2 },
        update: { perMinute: 3, burst: 3 },
      },
    },
    usage: async (owner): Promise<Usage> => {
      asked.push(owner);
      return { containers: 1, running: 1, memoryMb: 64, cpus: 0.5, codeBytes: 123 };
    },
    quotaLimits: () => ({ containers: 2, running: 2, memoryMb: 128, cpus: 1, codeMb: 1 }),
    runtimes: async () => [
      { name: "node", image: "img:1", entry: "index.js", command: ["node", "index.js"], available: true },
      { name: "python", image: "img:2", entry: null, command: null, available: false },
    ],
  };

  it("asks for the caller's own usage only", async () => {
    asked.length = 0;
    const info = await serverInfo(source, { owner: "alice", admin: false });
    expect(asked).toEqual(["alice"]);
    expect(info.quota?.usage).toEqual({ containers: 1, running: 1, memoryMb: 64, cpus: 0.5, codeBytes: 123 });
    expect(info.images).toEqual({ allowed: ["img:1", "img:2"], default: "img:1" });
    expect(info.timeouts).toEqual({ readyMs: 15_000, stopSec: 10 });
    expect(info.runtimes.map((r) => [r.name, r.available])).toEqual([
      ["node", true],
      ["python", false],
    ]);
  });

  it("gives the admin no quotas and asks for no one's usage", async () => {
    asked.length = 0;
    const info = await serverInfo(source, { owner: "admin", admin: true });
    expect(info).toMatchObject({ quota: null, rates: null, version: "9.9.9" });
    expect(asked).toEqual([]);
  });
});
