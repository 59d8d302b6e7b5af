import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CallAnswer } from "../agent-link/agent-link-contract.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ResourceSample } from "../monitoring/resource-usage.ts";
import { EngineCallServer } from "./engine-call-server.ts";
import type { NodeUsage } from "./node-usage.ts";
import { UsageCallServer } from "./usage-call-server.ts";

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });
const ENGINE_ID = "0123456789abcdef".repeat(4);

/** A NodeUsage that records what it was asked and answers a fixed sample. */
function fakeUsage() {
  const asked: Array<[string, boolean]> = [];
  const sample: ResourceSample = {
    source: "cgroup",
    usage: {
      cpuPercent: 12.5,
      memoryBytes: 1024,
      memoryLimitBytes: 4096,
      pids: 3,
      netRxBytes: 0,
      netTxBytes: 0,
      blockReadBytes: 0,
      blockWriteBytes: 0,
      ts: 1_800_000_000_000,
    },
  };
  const usage = {
    sample: async (engineId: string, fresh: boolean) => {
      asked.push([engineId, fresh]);
      return sample;
    },
  } as unknown as NodeUsage;
  return { usage, asked, sample };
}

function setUp(withUsage = true) {
  const { usage, asked, sample } = fakeUsage();
  const server = new EngineCallServer(
    new FakeDockerClient(),
    () => {},
    log,
    undefined,
    withUsage ? new UsageCallServer(usage, log) : undefined,
  );
  let next = 0;
  const call = (op: string, args: unknown[]): Promise<CallAnswer> =>
    new Promise((resolve) => void server.call({ kind: "usage", id: String(++next), op, args }, resolve));
  return { server, call, asked, sample };
}

describe("usage calls on the agent (UsageCallServer)", () => {
  it("answers a sample of a workload by its whole engine id", async () => {
    const { call, asked, sample } = setUp();
    expect(await call("sample", [ENGINE_ID, true])).toEqual({ ok: true, value: sample });
    expect(asked).toEqual([[ENGINE_ID, true]]);
  });

  it("refuses a name, a short or upper-case id, a path, or a missing flag, before anything is sampled", async () => {
    const { call, asked } = setUp();
    for (const args of [
      ["berth-Cabcdefghijk", false],
      [ENGINE_ID.slice(0, 12), false],
      [ENGINE_ID.toUpperCase(), false],
      [`../../${ENGINE_ID.slice(6)}`, false],
      [ENGINE_ID],
      [ENGINE_ID, false, "extra"],
    ]) {
      expect(await call("sample", args), JSON.stringify(args)).toMatchObject({
        ok: false,
        error: { code: "VALIDATION_FAILED" },
      });
    }
    expect(asked).toEqual([]);
  });

  it("refuses an operation that is not on its allow-list", async () => {
    const { call, asked } = setUp();
    for (const op of ["readFile", "constructor", "__proto__"]) {
      expect(await call(op, [ENGINE_ID, false]), op).toMatchObject({
        ok: false,
        error: { code: "VALIDATION_FAILED" },
      });
    }
    expect(asked).toEqual([]);
  });

  it("refuses usage calls on an agent that samples nothing", async () => {
    const { call } = setUp(false);
    expect(await call("sample", [ENGINE_ID, false])).toMatchObject({
      ok: false,
      error: { code: "VALIDATION_FAILED" },
    });
  });
});
