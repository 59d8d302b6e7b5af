import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/config.ts";
import { prepareDataDir } from "../config/data-dir.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { DockerError } from "../errors/errors.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EgressFilterUnavailableError } from "../network/egress-filter-unavailable-error.ts";
import { EgressFirewall } from "../network/egress-firewall.ts";
import { egressPolicy } from "../network/egress-policy.ts";
import { FakeIptables } from "../network/testing/fake-iptables.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { Store } from "../store/store-ports.ts";
import { ContainerPaths } from "../workload-files/container-paths.ts";
import { LocalWorkloadFiles } from "../workload-files/local-workload-files.ts";
import type { ClusterNetworks } from "./cluster-networks.ts";
import { ContainerManager } from "./container-manager.ts";
import { ContainerSpec } from "./container-spec.ts";
import { FakeWorkloadChannel } from "./testing/fake-workload-channel.ts";

const alice = { owner: "alice", admin: false };
const outbound = (name = "bot") =>
  ContainerSpec.parse({ name, network: "outbound", code: { files: { "index.js": "x" } } });

/** Each node's agent as the lifecycle sees it: what it was asked, and whether its node can filter. */
class FakeClusterNetworks implements ClusterNetworks {
  readonly placed = new Map<string, string>();
  readonly asked: string[] = [];
  readonly unfiltered = new Set<string>();
  /** How many engine calls had been made at each `ensure`. */
  readonly engineCallsAtEnsures: number[] = [];
  readonly docker: FakeDockerClient;
  constructor(docker: FakeDockerClient) {
    this.docker = docker;
  }

  async nodeOf(id: string): Promise<string | undefined> {
    return this.placed.get(id);
  }
  async ensure(nodeId: string, owner: string): Promise<string> {
    this.asked.push(`ensure ${nodeId} ${owner}`);
    this.engineCallsAtEnsures.push(this.docker.calls.length);
    if (this.unfiltered.has(nodeId)) throw new EgressFilterUnavailableError();
    return `net-of-${owner}-on-${nodeId}`;
  }
  async release(nodeId: string, owner: string): Promise<void> {
    this.asked.push(`release ${nodeId} ${owner}`);
  }
}

describe("ContainerManager: outbound workloads in cluster mode, on their owner's network on their node", () => {
  let dataDir: string;
  let store: Store;
  let docker: FakeDockerClient;
  let iptables: FakeIptables;
  let networks: FakeClusterNetworks;
  let manager: ContainerManager;
  /** Where the next placement goes. */
  let nextNode: string;
  /** What each placement asked of its node beyond room: "place C egressFilter". */
  let needs: string[];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cmn-"));
    const config = loadConfig({
      BERTH_DATA_DIR: dataDir,
      BERTH_READY_TIMEOUT_MS: "30000",
      BERTH_ALLOW_NETWORK: "true",
    });
    prepareDataDir(config.dataDir, config.runDir);
    store = openSqliteStore(join(dataDir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
    docker = new FakeDockerClient();
    iptables = new FakeIptables();
    networks = new FakeClusterNetworks(docker);
    nextNode = "node-a";
    needs = [];
    const secrets = new SecretRegistry();
    const log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    manager = new ContainerManager({
      config,
      docker,
      repo: store.containers,
      releases: store.releases,
      channel: new FakeWorkloadChannel(),
      secrets,
      log,
      instanceId: "test",
      files: new LocalWorkloadFiles(new ContainerPaths(config.dataDir, config.runDir)),
      // This API server's own host's firewall: never touched in cluster mode.
      egress: new EgressFirewall({ iptables, policy: egressPolicy([], []), instanceId: "test", log }),
      networks,
      releaseContents: store.releaseContents,
      placement: {
        place: async (id, _resources, asked) => {
          needs.push(`place ${id} ${asked?.egressFilter === true}`);
          networks.placed.set(id, nextNode);
        },
        placeAgain: async (id, _resources, from, asked) => {
          needs.push(`placeAgain ${id} ${asked?.egressFilter === true}`);
          if (networks.placed.get(id) !== from) return undefined;
          networks.placed.set(id, nextNode);
          return { nodeId: nextNode, generation: 2 };
        },
        putBack: async (id, nodeId) => {
          networks.placed.set(id, nodeId);
        },
      },
    });
  });
  afterEach(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const networkModeOf = (dockerId: string | null) =>
    docker.containers.get(dockerId ?? "")?.body.HostConfig?.NetworkMode;

  it("has the node it was placed on make its owner's network, filtered, before its container is made there", async () => {
    const created = await manager.create(alice, outbound());
    expect(networks.asked).toEqual(["ensure node-a alice"]);
    // After the placement, before any engine container: none was made when the node was asked.
    expect(docker.calls.slice(0, networks.engineCallsAtEnsures[0]).map((c) => c.method)).not.toContain(
      "createContainer",
    );
    expect(networkModeOf((await store.containers.get(created.id))!.dockerId)).toBe("net-of-alice-on-node-a");
    // Nothing of it on this server's host: no network of its engine port, no rule of its firewall.
    expect(docker.calls.map((c) => c.method)).not.toContain("ensureNetwork");
    expect(iptables.calls).toEqual([]);
  });

  it("refuses it as EGRESS_FILTER_UNAVAILABLE when its node cannot filter, and leaves nothing behind", async () => {
    networks.unfiltered.add("node-a");
    await expect(manager.create(alice, outbound())).rejects.toMatchObject({
      code: "EGRESS_FILTER_UNAVAILABLE",
    });
    expect(await store.containers.all()).toEqual([]);
    expect(docker.containers.size).toBe(0);
    expect(await readdir(join(dataDir, "code"))).toEqual([]);
  });

  it("asks its node again before every start, as a single host checks its filter before each", async () => {
    const created = await manager.create(alice, outbound());
    await manager.stop(alice, created.id);
    await manager.start(alice, created.id);
    await manager.restart(alice, created.id);
    const starts = docker.calls.flatMap((c, i) => (c.method === "startContainer" ? [i] : []));
    expect(starts).toHaveLength(3);
    // Between any two starts (and before the first), the node was asked to make sure of the filter.
    starts.forEach((at, n) => {
      const after = n === 0 ? -1 : (starts[n - 1] as number);
      expect(networks.engineCallsAtEnsures.some((e) => e > after && e <= at)).toBe(true);
    });
  });

  it("undoes the network it made when the create fails after it, on that node", async () => {
    docker.failNext("createContainer", new DockerError("injected", 500));
    await expect(manager.create(alice, outbound())).rejects.toMatchObject({ code: "DOCKER_ERROR" });
    expect(networks.asked).toEqual(["ensure node-a alice", "release node-a alice"]);
  });

  it("removes the owner's network from a node when its last outbound workload there goes, not before", async () => {
    const one = await manager.create(alice, outbound("one"));
    const two = await manager.create(alice, outbound("two"));
    nextNode = "node-b";
    const three = await manager.create(alice, outbound("three"));
    networks.asked.length = 0;
    await manager.delete(alice, one.id); // two is still on node-a
    await manager.delete(alice, three.id); // the last on node-b
    await manager.delete(alice, two.id); // the last on node-a
    expect(networks.asked).toEqual(["release node-b alice", "release node-a alice"]);
  });

  it("gives a workload moved to another node its owner's network there, and lets the lost node's go", async () => {
    const created = await manager.create(alice, outbound());
    nextNode = "node-b";
    networks.asked.length = 0;
    expect(await manager.relocate(created.id, "node-a")).toBe(true);
    expect(networks.asked).toEqual(["ensure node-b alice", "release node-a alice"]);
    expect(networkModeOf((await store.containers.get(created.id))!.dockerId)).toBe("net-of-alice-on-node-b");
  });

  it("asks placement for a node that can filter it, at its create and at its move; a workload without a network asks not", async () => {
    const filtered = await manager.create(alice, outbound());
    expect(await manager.relocate(filtered.id, "node-a")).toBe(true);
    const plain = await manager.create(
      alice,
      ContainerSpec.parse({ name: "plain", code: { files: { "index.js": "x" } } }),
    );
    expect(needs).toEqual([
      `place ${filtered.id} true`,
      `placeAgain ${filtered.id} true`,
      `place ${plain.id} false`,
    ]);
  });

  it("puts a move back, making nothing on the new node, when that node cannot filter", async () => {
    const created = await manager.create(alice, outbound());
    const before = (await store.containers.get(created.id))!.dockerId;
    nextNode = "node-b";
    networks.unfiltered.add("node-b");
    await expect(manager.relocate(created.id, "node-a")).rejects.toMatchObject({
      code: "EGRESS_FILTER_UNAVAILABLE",
    });
    expect(networks.placed.get(created.id)).toBe("node-a");
    expect((await store.containers.get(created.id))!.dockerId).toBe(before);
    expect(docker.containers.size).toBe(1);
  });

  it("releases the owner's network it made on the new node when the move fails after it", async () => {
    const created = await manager.create(alice, outbound());
    nextNode = "node-b";
    networks.asked.length = 0;
    docker.failNext("createContainer", new DockerError("injected", 500));
    await expect(manager.relocate(created.id, "node-a")).rejects.toMatchObject({ code: "DOCKER_ERROR" });
    expect(networks.asked).toEqual(["ensure node-b alice", "release node-b alice"]);
    expect(networks.placed.get(created.id)).toBe("node-a");
  });
});
