import { spawn } from "node:child_process";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Membership } from "../../src/cluster/membership.ts";
import { choosePlacement } from "../../src/cluster/placement.ts";
import { engineSwarmNodes } from "../../src/cluster/swarm-nodes.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import { findLeftovers } from "./testbed/leftovers.ts";
import { BRIDGE_ADDRESS } from "./testbed/names.ts";
import { allReady, RUNTIME_IMAGE, Testbed } from "./testbed/testbed.ts";

// Swarm's dispatcher expects a heartbeat every 5 s and marks a node down after
// missing a few; seen here at about 12 s. 30 s leaves room on a loaded machine.
const DOWN_WITHIN_MS = 30_000;

/** Connects from inside a node's network namespace to host:port; resolves once connected. */
async function connectFromNode(netns: string, host: string, port: number): Promise<void> {
  const script = `require("node:net").connect(${port}, "${host}", function () { this.end(); }).on("error", (e) => { console.error(e.message); process.exit(1); });`;
  const child = spawn("nsenter", [`--net=/var/run/netns/${netns}`, process.execPath, "-e", script], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`no connection from ${netns} to ${host}:${port}: ${stderr}`);
}

describe.skipIf(NEEDS_ROOT)("the cluster test bed", () => {
  let bed: Testbed | undefined;

  beforeAll(async () => {
    bed = await Testbed.up();
  });

  afterAll(async () => {
    await bed?.down();
  });

  it("forms one swarm of three managers, each ready", async () => {
    const nodes = await bed!.nodeLs();
    expect(nodes.map((n) => n.hostname)).toEqual(["berthc-n1", "berthc-n2", "berthc-n3"]);
    expect(allReady(nodes)).toBe(true);
    expect(nodes.filter((n) => n.manager?.leader)).toHaveLength(1);
  });

  it("has berth's runtime image on every node, whose containers get no-new-privileges by default", async () => {
    await Promise.all(
      bed!.engines.map(async (engine) => {
        // No SecurityOpt asked for, as a Swarm task cannot ask: the engine's daemon.json default applies.
        const container = await engine.docker.createContainer({
          Image: RUNTIME_IMAGE,
          Cmd: [
            "node",
            "-e",
            'console.log(/NoNewPrivs:\\s+1/.test(require("fs").readFileSync("/proc/self/status", "utf8")))',
          ],
          HostConfig: { NetworkMode: "none" },
        });
        try {
          await container.start();
          await container.wait();
          const output = (await container.logs({ stdout: true, stderr: true })).toString();
          expect(output, engine.node.hostname).toContain("true");
        } finally {
          await container.remove({ force: true });
        }
      }),
    );
  });

  it("lets the host reach the nodes, and the nodes reach the host", async () => {
    // The host to a node: Swarm's own port on node 2.
    const socket = connect(2377, bed!.node(2).node.address);
    await once(socket, "connect");
    socket.destroy();
    // A node to the host: a listener on the bridge's address, as PostgreSQL or an API server would have.
    const server = createServer((c) => c.end());
    server.listen(0, BRIDGE_ADDRESS);
    await once(server, "listening");
    try {
      await connectFromNode(bed!.node(3).node.netns, BRIDGE_ADDRESS, (server.address() as AddressInfo).port);
    } finally {
      server.close();
    }
  });

  it("kills a node's engine with SIGKILL and starts it again, and the node is back in the swarm", async () => {
    await bed!.killEngine(3);
    expect(await bed!.node(3).pid()).toBeUndefined();
    await bed!.startEngine(3);
    await bed!.waitForNodes(allReady, 60_000);
  });

  it("reports a node whose link is down as down within Swarm's failure detection; berth's membership and placement follow", async () => {
    const nodeId = (await bed!.nodeLs()).find((n) => n.hostname === "berthc-n2")!.id;
    // berth's view of the cluster, read from node 1's manager as an API server reads it.
    const manager = bed!.engines[0]!.docker;
    const membership = new Membership({ source: engineSwarmNodes(() => manager.listNodes()) });
    const changes: string[] = [];
    membership.on("changed", (now, before) =>
      changes.push(`${now?.hostname}: ${before?.state} → ${now?.state}`),
    );
    await membership.refresh();
    expect(membership.view()).toMatchObject({ fresh: true });
    expect(
      membership
        .view()
        .nodes.map((n) => `${n.hostname} ${n.state}`)
        .sort(),
    ).toEqual(["berthc-n1 ready", "berthc-n2 ready", "berthc-n3 ready"]);
    const need = { memoryBytes: 64 << 20, cpus: 0.5 };
    // With nothing placed, the tie goes to the smallest node id: make node 2 the one it would choose.
    const loads = new Map(
      membership
        .view()
        .nodes.map((n) => [n.id, { memoryBytes: 0, cpus: 0, workloads: n.id === nodeId ? 0 : 1 }]),
    );
    expect(choosePlacement(need, membership.view().nodes, loads).id).toBe(nodeId);

    await bed!.setLinkDown(2);
    const down = await bed!.waitForNodes(
      (nodes) => nodes.find((n) => n.id === nodeId)?.status === "down",
      DOWN_WITHIN_MS,
      [2],
    );
    expect(down.find((n) => n.id === nodeId)?.manager?.reachability).toBe("unreachable");
    await membership.refresh();
    expect(changes.slice(3)).toEqual(["berthc-n2: ready → down"]);
    expect(choosePlacement(need, membership.view().nodes, loads).id).not.toBe(nodeId);
    // Back up, but not waited for: a node whose link comes back is ready again after 0.3 to about
    // 50 s here (its agent's reconnection backs off), too long to wait for in every run.
    await bed!.setLinkUp(2);
  });

  it("leaves no namespace, link, cgroup or process behind when torn down", async () => {
    await bed!.down();
    expect(await findLeftovers()).toEqual({ netns: [], links: [], processes: [], cgroups: [] });
    await bed!.down(); // twice: nothing to do, no error
  });
});
