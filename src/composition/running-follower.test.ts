import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { containerRecord } from "../store/testing/container-record.ts";
import { RunningFollower } from "./running-follower.ts";

const log = createSystemLogger({
  level: "silent",
  redactor: new SecretRegistry().system,
  destination: new PassThrough(),
});

/** A follower over a store the test writes, and a health watch that records what it was asked. */
function follower() {
  const rows = new Map<string, ContainerRecord>();
  const asked: string[] = [];
  const watched = new Set<string>();
  const running = new RunningFollower({
    repo: { get: async (id) => rows.get(id) },
    health: {
      track: (record) => {
        asked.push(`track ${record.id}`);
        watched.add(record.id);
      },
      untrack: (id) => {
        asked.push(`untrack ${id}`);
        watched.delete(id);
      },
      watches: (id) => watched.has(id),
    },
    defaults: { defaultCpus: 1, defaultMemoryMb: 256, defaultPids: 256 },
    log,
  });
  return { running, rows, asked };
}

describe("RunningFollower.recheck (cluster mode: the leader follows the store's state notices)", () => {
  it("watches a container once it runs, whoever started it, and leaves the watch alone while it keeps running", async () => {
    const { running, rows, asked } = follower();
    rows.set("C1", containerRecord("C1", 20_001, { state: "running", dockerId: "n1:a" }));
    running.recheck("C1");
    running.recheck("C1"); // a second notice (a pass, a gap in the notices): the watch is not begun again
    await running.settled();
    expect(asked).toEqual(["track C1"]);
    expect(running.nanoCpusOf("C1")).toBe(1e9);
  });

  it("drops the watch of a container that no longer runs, or is gone, and never watches one that does not run", async () => {
    const { running, rows, asked } = follower();
    rows.set("C1", containerRecord("C1", 20_001, { state: "running", dockerId: "n1:a" }));
    running.recheck("C1");
    await running.settled();
    rows.set("C1", { ...rows.get("C1")!, state: "stopped" });
    running.recheck("C1");
    rows.set("C2", containerRecord("C2", 20_002, { state: "exited", dockerId: "n1:b" }));
    running.recheck("C2");
    running.recheck("C3"); // no row
    await running.settled();
    expect(asked).toEqual(["track C1", "untrack C1"]);
    expect(running.nanoCpusOf("C1")).toBeUndefined();
  });
});
