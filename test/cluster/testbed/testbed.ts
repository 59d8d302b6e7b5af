import { loadImage, savedImage } from "./images.ts";
import { findLeftovers, removeLeftovers } from "./leftovers.ts";
import { ALL_NODES, type NodeNames } from "./names.ts";
import {
  createNodeNetwork,
  createSwitch,
  heal,
  linkState,
  partition,
  setLinkDown,
  setLinkUp,
} from "./network.ts";
import { NodeEngine } from "./node-engine.ts";
import { StepTimer } from "./step-timer.ts";
import { initSwarm, joinSwarm, listNodes, type SwarmNode } from "./swarm.ts";

export const RUNTIME_IMAGE = "berth/runtime-node:24";
const SWARM_READY_TIMEOUT_MS = 60_000;

/**
 * Three Docker engines on this machine, each in a network namespace of its
 * own, joined by veth pairs to one bridge (the host 10.231.0.1/24, nodes .11–.13) and
 * forming one Swarm of three managers: the ground every cluster test stands
 * on. Every node has berth's runtime image. The operations below are the
 * faults those tests make: a link down, a partition, an engine killed.
 *
 * @example
 *   const bed = await Testbed.up();
 *   try { await bed.setLinkDown(2); … } finally { await bed.down(); }
 */
export class Testbed {
  readonly engines: readonly NodeEngine[] = ALL_NODES.map((node) => new NodeEngine(node));
  /** How long each step of the last `up` or `down` took. */
  readonly timer = new StepTimer();

  /**
   * Brings the test bed up from nothing, after clearing what an earlier run may have left. `iptables`: the
   * engines keep their firewall rules, each in its node's namespace (an egress filter needs them).
   */
  static async up(options: { images?: readonly string[]; iptables?: boolean } = {}): Promise<Testbed> {
    const bed = new Testbed();
    for (const engine of bed.engines) engine.iptables = options.iptables === true;
    try {
      await bed.#up(options.images ?? [RUNTIME_IMAGE]);
    } catch (err) {
      const logs = await Promise.all(
        bed.engines.map(async (e) => `${e.node.hostname}:\n${await e.logTail(15)}`),
      );
      await removeLeftovers();
      throw new Error(`the test bed did not come up: ${(err as Error).message}\n${logs.join("\n")}`, {
        cause: err,
      });
    }
    return bed;
  }

  /** The test bed as an earlier process left it (for `status` and `down` by hand). */
  static attach(): Testbed {
    return new Testbed();
  }

  async #up(images: readonly string[]): Promise<void> {
    const t = this.timer;
    await t.step("clear leftovers", removeLeftovers);
    const saved = t.step("save images", () => Promise.all(images.map(savedImage)));
    saved.catch(() => {}); // awaited below; a failure of the steps between must not leave it unhandled
    await t.step("network", async () => {
      await createSwitch();
      for (const node of ALL_NODES) await createNodeNetwork(node);
    });
    await t.step("start engines", () => Promise.all(this.engines.map((e) => e.start())));
    const [first, ...others] = this.engines as [NodeEngine, ...NodeEngine[]];
    const swarm = t.step("swarm of three managers", async () => {
      const token = await initSwarm(first.docker, first.node.address);
      // One at a time: a manager joining changes the Raft membership, which takes one change at once.
      for (const e of others) await joinSwarm(e.docker, e.node.address, first.node.address, token);
    });
    const tars = await saved;
    const loaded = t.step("load images", () =>
      Promise.all(
        this.engines.flatMap((e) => images.map((image, i) => loadImage(e.docker, tars[i]!, image))),
      ),
    );
    await Promise.all([swarm, loaded]);
    await t.step("all nodes ready", () =>
      this.waitForNodes((nodes) => allReady(nodes), SWARM_READY_TIMEOUT_MS),
    );
  }

  /** Tears everything down (engines, their containers, namespaces, links, cgroups, files). Safe to call twice. */
  async down(): Promise<void> {
    await this.timer.step("down", removeLeftovers);
  }

  node(index: number): NodeEngine {
    const engine = this.engines[index - 1];
    if (!engine) throw new Error(`no node ${index}: the test bed has ${this.engines.length}`);
    return engine;
  }

  /** `docker node ls` as the first node that answers sees it (skipping `except`, e.g. a node cut off). */
  async nodeLs(except: readonly number[] = []): Promise<SwarmNode[]> {
    let lastError: unknown;
    for (const e of this.engines) {
      if (except.includes(e.node.index)) continue;
      try {
        return await listNodes(e.docker);
      } catch (err) {
        lastError = err;
      }
    }
    throw new Error(`no manager answered node ls: ${(lastError as Error | undefined)?.message}`);
  }

  /** Polls `nodeLs` until `check` holds; resolves with the list that passed. */
  async waitForNodes(
    check: (nodes: SwarmNode[]) => boolean,
    timeoutMs: number,
    except: readonly number[] = [],
  ): Promise<SwarmNode[]> {
    const deadline = Date.now() + timeoutMs;
    let last: SwarmNode[] | string = "nothing yet";
    for (;;) {
      try {
        const nodes = await this.nodeLs(except);
        if (check(nodes)) return nodes;
        last = nodes;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(`swarm nodes not as expected within ${timeoutMs} ms: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  setLinkDown(index: number): Promise<void> {
    return setLinkDown(this.#names(index));
  }

  setLinkUp(index: number): Promise<void> {
    return setLinkUp(this.#names(index));
  }

  /** Cuts the node off with its interfaces up: its veth leaves the bridge. */
  partition(index: number): Promise<void> {
    return partition(this.#names(index));
  }

  heal(index: number): Promise<void> {
    return heal(this.#names(index));
  }

  /** SIGKILL to the node's dockerd (its containers run on under their shims). */
  killEngine(index: number): Promise<void> {
    return this.node(index).kill();
  }

  /** Starts the node's dockerd again on the same roots: it rejoins the swarm by itself. */
  startEngine(index: number): Promise<void> {
    return this.node(index).start();
  }

  /** Each node's engine (pid), the host end of its link, and the swarm as the nodes that answer see it. */
  async status(): Promise<{ nodes: object[]; swarm: SwarmNode[] | string; leftovers: object }> {
    const nodes = await Promise.all(
      this.engines.map(async (e) => {
        return {
          hostname: e.node.hostname,
          address: e.node.address,
          socket: e.node.socketPath,
          dockerd: (await e.pid()) ?? null,
          link: (await linkState(e.node)) ?? null,
        };
      }),
    );
    const swarm = await this.nodeLs().catch((err: Error) => err.message);
    return { nodes, swarm, leftovers: await findLeftovers() };
  }

  #names(index: number): NodeNames {
    return this.node(index).node;
  }
}

/** Three nodes, each ready and a reachable manager. */
export function allReady(nodes: SwarmNode[]): boolean {
  return (
    nodes.length === ALL_NODES.length &&
    nodes.every(
      (n) => n.status === "ready" && n.role === "manager" && n.manager?.reachability === "reachable",
    )
  );
}
