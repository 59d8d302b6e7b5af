import { describe, expect, it } from "vitest";
import { engineSwarmNodes, isSchedulable, parseSwarmNodes } from "./swarm-nodes.ts";

/** A node as engine 20.10's `GET /nodes` answers it (the fields berth reads, and some it does not). */
const raw = (id: string, state: string, extra: Record<string, unknown> = {}) => ({
  ID: id,
  Version: { Index: 9 },
  Description: {
    Hostname: `host-${id}`,
    Resources: { NanoCPUs: 2_000_000_000, MemoryBytes: 8 << 30 },
    Engine: { EngineVersion: "20.10.24" },
  },
  Spec: { Role: "manager", Availability: "active", Labels: { zone: "a" } },
  Status: { State: state, Addr: "10.231.0.11" },
  ...extra,
});

describe("the Swarm's node list", () => {
  it("is read into what placement needs", () => {
    expect(parseSwarmNodes([raw("n1", "ready")])).toEqual([
      {
        id: "n1",
        hostname: "host-n1",
        state: "ready",
        availability: "active",
        cpus: 2,
        memoryBytes: 8 << 30,
        labels: { zone: "a" },
      },
    ]);
  });

  it("takes a state this berth does not know as unknown, never as ready", () => {
    const [node] = parseSwarmNodes([raw("n1", "rebooting")]);
    expect(node?.state).toBe("unknown");
    expect(isSchedulable(node!)).toBe(false);
  });

  it("places on ready and active nodes only", () => {
    const [ready, down, drained, paused] = parseSwarmNodes([
      raw("a", "ready"),
      raw("b", "down"),
      raw("c", "ready", { Spec: { Availability: "drain" } }),
      raw("d", "ready", { Spec: { Availability: "pause" } }),
    ]);
    expect([ready, down, drained, paused].map((n) => isSchedulable(n!))).toEqual([true, false, false, false]);
  });

  it("fails as DOCKER_UNAVAILABLE on an answer that is not a node list, and when the manager cannot be asked", async () => {
    expect(() => parseSwarmNodes({ message: "This node is not a swarm manager." })).toThrow(
      expect.objectContaining({ code: "DOCKER_UNAVAILABLE" }),
    );
    expect(() => parseSwarmNodes([{ ID: "n1" }])).toThrow(
      expect.objectContaining({ code: "DOCKER_UNAVAILABLE" }),
    );
    const refused = engineSwarmNodes(() => Promise.reject(new Error("connect ENOENT /var/run/docker.sock")));
    await expect(refused.listNodes()).rejects.toMatchObject({ code: "DOCKER_UNAVAILABLE" });
  });
});
