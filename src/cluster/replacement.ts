import type { EventEmitter } from "node:events";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { PlacementStore } from "../store/store-ports.ts";
import type { Membership, MembershipEvents } from "./membership.ts";
import type { SwarmNode } from "./swarm-nodes.ts";

export interface ReplacementOptions {
  membership: Pick<Membership, "view"> & Pick<EventEmitter<MembershipEvents>, "on" | "off">;
  placements: Pick<PlacementStore, "nodes" | "onNode">;
  /** Moves one workload off `lostNode` (ContainerManager.relocate); false when there was nothing to move. */
  relocate(containerId: string, lostNode: string): Promise<boolean>;
  log: SystemLogger;
  /** A pass that could not move every workload is tried again after this (default 5 s). */
  retryAfterMs?: number;
}

/** Workloads moved at once: each takes a create's worth of work on the node it goes to. */
const AT_ONCE = 4;

/** Swarm's word for a node it cannot reach; `unknown` (a state this berth does not know) is not taken for lost. */
function isLost(node: SwarmNode | undefined): boolean {
  return node === undefined || node.state === "down" || node.state === "disconnected";
}

/**
 * Re-placement, run by one API server at a time (the leader of the
 * "re-placement" lease): the workloads of every node that Swarm calls down,
 * or that left the Swarm, are moved to other nodes, each in its own turn.
 * Looked at when this server is elected and at every change Swarm reports,
 * and only on a fresh view: a manager that cannot be asked says nothing
 * about the nodes. A pass under way when another is asked for is followed by
 * one more, never run twice at once; a pass that could not move everything
 * (no node with room, a node's agent away) is tried again after a while.
 */
export class Replacement {
  readonly #o: ReplacementOptions;
  readonly #log: SystemLogger;
  #term: AbortSignal | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: ReplacementOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: "Replacement" });
  }

  /** This server leads re-placement until `term` aborts: a pass now, and one at every change of the nodes. */
  lead(term: AbortSignal): void {
    this.#term = term;
    this.#o.membership.on("changed", this.#onChange);
    term.addEventListener(
      "abort",
      () => {
        this.#o.membership.off("changed", this.#onChange);
        clearTimeout(this.#retry);
      },
      { once: true },
    );
    this.#onChange();
  }

  /** The pass under way, if any (for shutdown and tests). */
  settled(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  readonly #onChange = (): void => {
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#pass().catch((err: unknown) => this.#log.warn({ err }, "a re-placement pass failed"));
      } while (this.#again && !this.#term?.aborted);
    })().finally(() => {
      this.#running = undefined;
    });
  };

  async #pass(): Promise<void> {
    const view = this.#o.membership.view();
    if (!view.fresh || this.#term?.aborted) return;
    const byId = new Map(view.nodes.map((n) => [n.id, n]));
    let failed = 0;
    for (const nodeId of await this.#o.placements.nodes()) {
      if (this.#term?.aborted) return;
      if (!isLost(byId.get(nodeId))) continue;
      const queue = (await this.#o.placements.onNode(nodeId)).map((p) => p.containerId);
      this.#log.warn({ nodeId, workloads: queue.length }, "moving the workloads of a lost node");
      const worker = async () => {
        for (let id = queue.shift(); id !== undefined && !this.#term?.aborted; id = queue.shift()) {
          await this.#o.relocate(id, nodeId).catch((err: unknown) => {
            failed++;
            this.#log.error({ err, containerId: id, nodeId }, "could not move a workload off a lost node");
          });
        }
      };
      await Promise.all(Array.from({ length: AT_ONCE }, worker));
    }
    if (failed > 0 && !this.#term?.aborted) {
      clearTimeout(this.#retry);
      this.#retry = setTimeout(this.#onChange, this.#o.retryAfterMs ?? 5_000);
    }
  }
}
