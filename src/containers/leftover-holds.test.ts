import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ContainerInspect } from "../docker/docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { giveBackLeftoverHolds } from "./leftover-holds.ts";

const defaults = { defaultCpus: 1, defaultMemoryMb: 256, defaultPids: 128 };
const HELD = [5e7, 1e7];

function record(id: string, cpus?: number): ContainerRecord {
  return {
    id,
    dockerId: `d-${id}`,
    spec: cpus === undefined ? {} : { resources: { cpus } },
  } as ContainerRecord;
}

/** An engine whose containers have these CPU limits; updates are written down, and taken. */
function engine(nanoCpus: Record<string, number>) {
  const updates: Array<[string, number]> = [];
  return {
    updates,
    inspectContainer: async (dockerId: string) =>
      ({ HostConfig: { NanoCpus: nanoCpus[dockerId] } }) as unknown as ContainerInspect,
    updateCpuLimit: async (dockerId: string, n: number) => {
      updates.push([dockerId, n]);
    },
  };
}

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });

describe("giveBackLeftoverHolds", () => {
  it("gives its own limit back to every container left at a held limit, stopped or running", async () => {
    const docker = engine({ "d-a": 5e7, "d-b": 1e7, "d-c": 1e9, "d-d": 5e7 });
    const given = await giveBackLeftoverHolds({
      docker,
      repo: { all: async () => [record("a", 0.5), record("b"), record("c"), record("d", 0.05)] },
      defaults,
      heldNanoCpus: HELD,
      isHeld: () => false,
      log,
    });
    // d's own limit is what a hold sets: not a leftover.
    expect(docker.updates).toEqual([
      ["d-a", 5e8],
      ["d-b", 1e9],
    ]);
    expect(given).toEqual({ given: 2, failed: 0 });
  });

  it("leaves alone a hold this berth has under way", async () => {
    const docker = engine({ "d-a": 5e7 });
    await giveBackLeftoverHolds({
      docker,
      repo: { all: async () => [record("a", 0.5)] },
      defaults,
      heldNanoCpus: HELD,
      isHeld: (id) => id === "a",
      log,
    });
    expect(docker.updates).toEqual([]);
  });

  it("stops at the next container once berth is closing, and counts what the engine refused", async () => {
    const docker = engine({ "d-a": 5e7, "d-b": 5e7 });
    docker.updateCpuLimit = async () => {
      throw new Error("engine busy");
    };
    let closing = false;
    const result = await giveBackLeftoverHolds({
      docker,
      repo: {
        all: async () => [record("a", 0.5), record("b", 0.5)],
      },
      defaults,
      heldNanoCpus: HELD,
      isHeld: () => false,
      stopped: () => {
        const was = closing;
        closing = true;
        return was;
      },
      log,
    });
    expect(result).toEqual({ given: 0, failed: 1 });
  });
});
