import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ContainerInspect } from "../docker/docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { giveBackLeftoverHolds, LeftoverHolds } from "./leftover-holds.ts";

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

describe("LeftoverHolds", () => {
  it("runs its pass again after one the engine refused a container of, and no more once one gave everything back", async () => {
    const docker = engine({ "d-a": 5e7 });
    let refuse = true;
    const update = docker.updateCpuLimit;
    docker.updateCpuLimit = async (dockerId, n) => {
      if (refuse) throw new Error("engine busy");
      await update(dockerId, n);
    };
    let passes = 0;
    const holds = new LeftoverHolds({
      docker,
      repo: {
        all: async () => {
          passes++;
          return [record("a", 0.5)];
        },
      },
      defaults,
      heldNanoCpus: HELD,
      isHeld: () => false,
      log,
    });
    await holds.giveBack();
    expect(passes).toBe(1);
    refuse = false;
    await holds.giveBack();
    expect(docker.updates).toEqual([["d-a", 5e8]]);
    await holds.giveBack();
    expect(passes).toBe(2);
  });

  it("runs one pass at a time; close() ends the pass under way at the next container, waits for it, and starts none after", async () => {
    const docker = engine({ "d-a": 5e7, "d-b": 5e7 });
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const inspect = docker.inspectContainer;
    const inspected: string[] = [];
    let reached: () => void = () => {};
    const inspecting = new Promise<void>((resolve) => (reached = resolve));
    docker.inspectContainer = async (dockerId) => {
      inspected.push(dockerId);
      reached();
      await held;
      return inspect(dockerId);
    };
    let passes = 0;
    const holds = new LeftoverHolds({
      docker,
      repo: {
        all: async () => {
          passes++;
          return [record("a", 0.5), record("b", 0.5)];
        },
      },
      defaults,
      heldNanoCpus: HELD,
      isHeld: () => false,
      log,
    });
    const pass = holds.giveBack();
    expect(holds.giveBack()).toBe(pass);
    await inspecting;
    let closed = false;
    const closing = holds.close().then(() => {
      closed = true;
    });
    await Promise.race([pass, Promise.resolve()]);
    expect(closed).toBe(false);
    release();
    await closing;
    expect(passes).toBe(1);
    // a was under way when close() came; b was never reached.
    expect(inspected).toEqual(["d-a"]);
    expect(docker.updates).toEqual([["d-a", 5e8]]);
    await holds.giveBack();
    expect(passes).toBe(1);
  });
});
