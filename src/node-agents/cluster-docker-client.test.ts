import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { DockerClient, EngineEvent } from "../docker/docker-client.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { DockerError, DockerUnavailableError } from "../errors/errors.ts";
import { ClusterDockerClient } from "./cluster-docker-client.ts";
import { parseEngineHandle } from "./engine-handle.ts";
import type { NodeEngines, NodeEnginesEvents } from "./node-engines.ts";

/** Two nodes' engines; `away` ones have no agent: their calls fail as RemoteDockerClient's do. */
class FakeNodeEngines extends EventEmitter<NodeEnginesEvents> implements NodeEngines {
  readonly engines = new Map<string, FakeDockerClient>([
    ["node1", new FakeDockerClient()],
    ["node2", new FakeDockerClient()],
  ]);
  readonly away = new Set<string>();

  connected(): string[] {
    return [...this.engines.keys()].filter((n) => !this.away.has(n));
  }

  engineOf(nodeId: string): DockerClient {
    const engine = this.engines.get(nodeId)!;
    if (!this.away.has(nodeId)) return engine;
    return new Proxy(engine, {
      get: (target, prop) =>
        typeof (target as unknown as Record<string | symbol, unknown>)[prop] === "function"
          ? () => Promise.reject(new DockerUnavailableError())
          : Reflect.get(target, prop),
    });
  }

  leave(nodeId: string): void {
    this.away.add(nodeId);
    this.emit("changed");
  }
}

function setup(placed: Record<string, string> = { c1: "node1", c2: "node2" }) {
  const nodes = new FakeNodeEngines();
  const docker = new ClusterDockerClient({
    engines: nodes,
    nodeOf: async (id) => placed[id],
    nodesWithWorkloads: async () => [...new Set(Object.values(placed))],
  });
  return { nodes, docker, n1: nodes.engines.get("node1")!, n2: nodes.engines.get("node2")! };
}

function body(id: string) {
  return { name: `berth-${id}`, Image: "img", Labels: { "berth.id": id, "berth.managed": "true" } };
}

describe("ClusterDockerClient, berth's engine port over a cluster's nodes", () => {
  it("sends a create labelled with its placement's generation, and refuses one labelled with another (moved meanwhile)", async () => {
    const nodes = new FakeNodeEngines();
    const placements: Record<string, { nodeId: string; generation: number }> = {
      c1: { nodeId: "node2", generation: 2 },
    };
    const docker = new ClusterDockerClient({
      engines: nodes,
      nodeOf: async (id) => placements[id]?.nodeId,
      placementOf: async (id) => placements[id],
      nodesWithWorkloads: async () => ["node2"],
    });
    const labelled = (generation: number) => {
      const b = body("c1");
      return { ...b, Labels: { ...b.Labels, "berth.generation": String(generation) } };
    };
    await expect(docker.createContainer(labelled(1))).rejects.toMatchObject({
      code: "CONFLICT",
      retryable: true,
      details: { reason: "stale_placement" },
    });
    expect([...nodes.engines.values()].map((e) => e.containers.size)).toEqual([0, 0]);
    const handle = await docker.createContainer(labelled(2));
    expect(parseEngineHandle(handle)?.nodeId).toBe("node2");
    expect([...nodes.engines.get("node2")!.containers.values()][0]?.body.Labels?.["berth.generation"]).toBe(
      "2",
    );
  });

  it("creates each workload on the node it is placed on, and routes every later call by the handle it gave", async () => {
    const { docker, n1, n2 } = setup();
    const h1 = await docker.createContainer(body("c1"));
    const h2 = await docker.createContainer(body("c2"));
    expect(parseEngineHandle(h1)?.nodeId).toBe("node1");
    expect(parseEngineHandle(h2)?.nodeId).toBe("node2");
    expect([n1.containers.size, n2.containers.size]).toEqual([1, 1]);

    await docker.startContainer(h2);
    expect(n2.containers.get(parseEngineHandle(h2)!.engineId)?.state).toBe("running");
    expect(n1.calls.map((c) => c.method)).toEqual(["createContainer"]);
    const inspect = await docker.inspectContainer(h2);
    expect(inspect?.Id).toBe(h2);
    expect(inspect?.State.Running).toBe(true);
    // By name: the node it is placed on now.
    expect((await docker.inspectContainer("berth-c1"))?.Id).toBe(h1);
    await docker.stopContainer(h2, 1);
    await docker.removeContainer(h2);
    expect(n2.containers.size).toBe(0);
    expect(n1.containers.size).toBe(1);
  });

  it("refuses to create a workload that is placed nowhere, and answers a name placed nowhere as missing", async () => {
    const { docker, n1, n2 } = setup({});
    await expect(docker.createContainer(body("c9"))).rejects.toMatchObject({ code: "INTERNAL" });
    expect(await docker.inspectContainer("berth-c9")).toBeUndefined();
    expect([n1.calls, n2.calls]).toEqual([[], []]);
  });

  it("takes a bare engine id for no container of the cluster's: the engine's 404, and a removal that succeeds", async () => {
    const { docker } = setup();
    await expect(docker.startContainer("abc123")).rejects.toBeInstanceOf(DockerError);
    await expect(docker.startContainer("abc123")).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.removeContainer("abc123")).resolves.toBeUndefined();
    expect(await docker.inspectContainer("abc123")).toBeUndefined();
  });

  it("lists every node's containers with handles, and refuses a list while a node holding workloads has no agent", async () => {
    const { docker, nodes } = setup();
    const h1 = await docker.createContainer(body("c1"));
    const h2 = await docker.createContainer(body("c2"));
    const list = await docker.listContainers({ "berth.managed": "true" });
    expect(list.map((c) => c.dockerId).sort()).toEqual([h1, h2].sort());

    nodes.leave("node2");
    // Its workloads must not look gone: the reconciler would take them for vanished.
    await expect(docker.listContainers({ "berth.managed": "true" })).rejects.toBeInstanceOf(
      DockerUnavailableError,
    );
    await expect(docker.startContainer(h2)).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(docker.startContainer(h1)).resolves.toBe(true);
  });

  it("merges every node's events with handles, and ends the stream when an agent comes or goes", async () => {
    const { docker, nodes, n1, n2 } = setup();
    const h2 = await docker.createContainer(body("c2"));
    const seen: EngineEvent[] = [];
    const sub = await docker.streamEvents({ "berth.managed": "true" }, 0, (e) => seen.push(e));
    const engineId = parseEngineHandle(h2)!.engineId;
    n2.emitEvent({ action: "start", dockerId: engineId, labels: { "berth.id": "c2" }, time: 1 });
    n1.emitEvent({ action: "die", dockerId: "e1", labels: { "berth.id": "c1" }, time: 2 });
    expect(seen.map((e) => [e.action, e.dockerId])).toEqual([
      ["start", h2],
      ["die", "node1:e1"],
    ]);

    nodes.leave("node1");
    await expect(sub.done).rejects.toBeInstanceOf(DockerUnavailableError);
    // Every node's stream was closed with it.
    expect([n1.eventListeners.size, n2.eventListeners.size]).toEqual([0, 0]);
  });

  it("ends the merged stream when one node's stream ends, and closes cleanly when asked", async () => {
    const { docker, n1, n2 } = setup();
    const sub = await docker.streamEvents({}, 0, () => undefined);
    n1.dropEventStreams();
    await expect(sub.done).rejects.toBeInstanceOf(DockerUnavailableError);
    expect(n2.eventListeners.size).toBe(0);

    const again = await docker.streamEvents({}, 0, () => undefined);
    again.close();
    await expect(again.done).resolves.toBeUndefined();
    expect([n1.eventListeners.size, n2.eventListeners.size]).toEqual([0, 0]);
  });

  it("asks node-wide questions of every connected node and takes the first answer: one node's silence does not make the cluster's engine look down", async () => {
    const { docker, nodes, n1, n2 } = setup();
    // node1's link is down, and its agent's connection not ended yet: its calls never answer.
    n1.ping = () => new Promise(() => {});
    await docker.ping();
    expect(n2.calls.map((c) => c.method)).toEqual(["ping"]);
    nodes.leave("node1");
    n2.images = new Map();
    expect(await docker.inspectImage("berth/runtime-node:24")).toBeUndefined();
    n2.images.set("berth/runtime-node:24", { entrypoint: [], cmd: ["node"], labels: {} });
    expect(await docker.inspectImage("berth/runtime-node:24")).toMatchObject({ cmd: ["node"] });
    nodes.leave("node2");
    await expect(docker.version()).rejects.toBeInstanceOf(DockerUnavailableError);
  });

  it("ends, with no unhandled rejection, a merged stream whose agents change while its node streams are being opened", async () => {
    const { docker, nodes, n2 } = setup();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      let opened!: () => void;
      const slow = new Promise<void>((resolve) => {
        opened = resolve;
      });
      const streamEvents = n2.streamEvents.bind(n2);
      n2.streamEvents = async (...args) => {
        await slow; // node2's agent is slow to answer the subscription
        return streamEvents(...args);
      };
      const subscribing = docker.streamEvents({}, 0, () => undefined);
      await new Promise((r) => setImmediate(r));
      nodes.leave("node1"); // the agents change meanwhile
      await new Promise((r) => setTimeout(r, 20)); // a turn for Node to see an unhandled rejection
      opened();
      const sub = await subscribing;
      await expect(sub.done).rejects.toBeInstanceOf(DockerUnavailableError);
      expect(n2.eventListeners.size).toBe(0); // the stream opened late was closed at once
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("lists a node's containers only for the workloads placed on it, and orphans: never another node's workload", async () => {
    const { docker, n1, n2 } = setup();
    await docker.createContainer(body("c1")); // placed on node1
    // node2 (a stale copy, or a compromised agent) lists a container labelled as node1's workload, and an orphan.
    await n2.createContainer(body("c1"));
    await n2.createContainer(body("orphan"));
    const listed = await docker.listContainers({ "berth.managed": "true" });
    expect(listed.map((c) => [c.labels["berth.id"], parseEngineHandle(c.dockerId)?.nodeId]).sort()).toEqual([
      ["c1", "node1"],
      ["orphan", "node2"],
    ]);
    expect(n1.containers.size).toBe(1);
  });
});
