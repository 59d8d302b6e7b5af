import { EventEmitter } from "node:events";
import { DockerUnavailableError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import type { SwarmNode, SwarmNodeSource } from "./swarm-nodes.ts";

export interface MembershipEvents {
  /** A node appeared, left the Swarm, or changed state or availability; `before` is undefined for a new one. */
  changed: [node: SwarmNode | undefined, before: SwarmNode | undefined];
  /** The manager could not be asked; the last view is kept, marked stale, until it answers again. */
  unreachable: [err: unknown];
}

export interface MembershipOptions {
  source: SwarmNodeSource;
  /**
   * How often the manager is asked (default 1 s). Swarm calls a lost node down 3–7.5 s after it is cut off,
   * with the dispatcher heartbeat of 2 s that docs/cluster.md has operators set: a change waits up to one
   * interval on top of that before anything moves, and an ask costs the manager one `GET /nodes` (milliseconds).
   */
  everyMs?: number;
  /**
   * How long one ask may take before it counts as unanswered (default 3 s). A manager that is not the Raft
   * leader forwards the question to it, and holds it for about 20 s once the leader is gone, whatever happens
   * meanwhile; asked again, it answers as soon as the other managers have elected another. So an ask is given
   * up (the view stale, as when the manager cannot be reached) and the next one made at the next interval.
   */
  askTimeoutMs?: number;
  clock?: Clock;
  log?: SystemLogger;
}

/**
 * The cluster's nodes as Swarm reports them, asked for every `everyMs` and
 * told as changes. berth has no membership protocol of its own: a node is
 * up or down because Swarm's managers say so (their Raft and heartbeats).
 *
 * A view is only as good as its last answer: while the manager cannot be
 * asked, the last view is kept but `fresh` is false, and whoever would act
 * on a node being down (re-placement) must wait for a fresh one — a manager
 * that cannot be reached says nothing about the nodes.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  readonly #source: SwarmNodeSource;
  readonly #everyMs: number;
  readonly #askTimeoutMs: number;
  readonly #clock: Clock;
  readonly #log: SystemLogger | undefined;
  readonly #stop = new AbortController();
  #nodes = new Map<string, SwarmNode>();
  #fresh = false;
  #answeredAt: number | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: MembershipOptions) {
    super();
    this.#source = options.source;
    this.#everyMs = options.everyMs ?? 1_000;
    this.#askTimeoutMs = options.askTimeoutMs ?? 3_000;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log?.child({ component: "Membership" });
  }

  /** Every node of the last answer; `fresh` is false while the manager cannot be asked. */
  view(): { nodes: SwarmNode[]; fresh: boolean; answeredAt: number | undefined } {
    return { nodes: [...this.#nodes.values()], fresh: this.#fresh, answeredAt: this.#answeredAt };
  }

  /** Asks the manager once now and applies its answer (what the loop does each interval). */
  async refresh(): Promise<void> {
    let nodes: SwarmNode[];
    const ask = new AbortController();
    try {
      const timedOut = this.#clock.sleep(this.#askTimeoutMs, ask.signal).then(() => {
        throw new DockerUnavailableError({
          details: { reason: `the Swarm manager did not answer within ${this.#askTimeoutMs} ms` },
        });
      });
      nodes = await Promise.race([this.#source.listNodes(ask.signal), timedOut]);
    } catch (err) {
      if (this.#fresh || this.#answeredAt === undefined)
        this.#log?.warn({ err }, "cannot ask the Swarm for its nodes; keeping the last view");
      this.#fresh = false;
      this.emit("unreachable", err);
      return;
    } finally {
      ask.abort(); // ends the timer, or the question left unanswered
    }
    if (!this.#fresh && this.#answeredAt !== undefined) this.#log?.info("the Swarm answers again");
    this.#fresh = true;
    this.#answeredAt = this.#clock.now();
    this.#apply(nodes);
  }

  /** Starts asking (the first time at once). */
  start(): this {
    this.#loop ??= this.#run();
    return this;
  }

  /** Stops asking; safe to call twice. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      await this.refresh();
      try {
        await this.#clock.sleep(this.#everyMs, this.#stop.signal);
      } catch {
        return; // closed
      }
    }
  }

  #apply(nodes: SwarmNode[]): void {
    const next = new Map(nodes.map((n) => [n.id, n]));
    const changes: Array<[SwarmNode | undefined, SwarmNode | undefined]> = [];
    for (const [id, node] of next) {
      const before = this.#nodes.get(id);
      if (!before || before.state !== node.state || before.availability !== node.availability)
        changes.push([node, before]);
    }
    for (const [id, before] of this.#nodes) if (!next.has(id)) changes.push([undefined, before]);
    // The new view is in place before anyone hears of a change, so a listener reading view() sees it.
    this.#nodes = next;
    for (const [node, before] of changes) {
      this.#log?.info(
        { node: (node ?? before)?.hostname, from: before?.state, to: node?.state ?? "gone" },
        "a node of the cluster changed",
      );
      this.emit("changed", node, before);
    }
  }
}
