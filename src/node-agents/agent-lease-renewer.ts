import type { SystemLogger } from "../logging/system-logger.ts";
import type { AgentConnection } from "./agent-connection.ts";
import type { AgentRegistry } from "./agent-registry.ts";

export interface AgentLeaseRenewerOptions {
  registry: AgentRegistry;
  /**
   * A cheap question to this server's store (one row by its key): it answers only while the store
   * (PostgreSQL) is reachable. Its answer does not matter, only that it comes in time.
   */
  storeAnswers: () => Promise<unknown>;
  /** How often the store is asked and the leases renewed (default 1 s: well inside any agent's lease). */
  intervalMs?: number;
  /**
   * How long each renewal vouches for (default 30 s); every agent takes the shorter of this and its own
   * BERTH_AGENT_LEASE_MS, so an agent's own setting rules.
   */
  ttlMs?: number;
  log: SystemLogger;
}

/**
 * Renews the lease of every node agent connected to this API server, and
 * only while this server's own store answers: each interval it asks the
 * store one cheap question (one at a time), and each answer renews every
 * agent's lease (the link's `lease` message). A server cut off from
 * PostgreSQL — which can no longer tell where a workload is placed now —
 * stops vouching for the agents, and an agent that no server vouches for
 * fences itself (docs/cluster.md, "Fencing"). Agents never get database
 * credentials: this is how they learn, second hand, that the store is there.
 * An agent that connects is renewed at once when the store answered within
 * the last two intervals.
 */
export class AgentLeaseRenewer {
  readonly #o: AgentLeaseRenewerOptions;
  readonly #intervalMs: number;
  readonly #ttlMs: number;
  readonly #log: SystemLogger;
  #timer: NodeJS.Timeout | undefined;
  /** When the store last answered in time (0: not yet). */
  #answeredAt = 0;
  /** Whether the last check failed (logged once per outage, not every second). */
  #failing = false;
  /** The store's answer awaited now, if any, and since when. */
  #asking: Promise<unknown> | undefined;
  #askedAt = 0;
  #closed = false;

  constructor(options: AgentLeaseRenewerOptions) {
    this.#o = options;
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#log = options.log.child({ component: "AgentLeaseRenewer" });
    options.registry.on("connected", this.#onConnected);
  }

  start(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref();
    void this.#tick();
  }

  /** Stops renewing (the agents' leases then run out unless another server renews them). Safe to call twice. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#o.registry.off("connected", this.#onConnected);
  }

  readonly #onConnected = (agent: AgentConnection): void => {
    if (!this.#closed && Date.now() - this.#answeredAt <= 2 * this.#intervalMs) agent.renewLease(this.#ttlMs);
  };

  async #tick(): Promise<void> {
    if (this.#closed) return;
    // One question at a time, however long it takes: a slow answer (a pool busy with long operations) still
    // renews when it comes, and only a store that answers nothing for a whole lease lets the agents fence
    // themselves. A question unanswered (PostgreSQL cut off silently) is not stacked on.
    if (this.#asking !== undefined) {
      const waitedMs = Date.now() - this.#askedAt;
      if (waitedMs > 2 * this.#intervalMs) this.#failed(new Error(`no answer for ${waitedMs} ms`));
      return;
    }
    this.#askedAt = Date.now();
    const asking = this.#o.storeAnswers();
    this.#asking = asking;
    try {
      await asking;
    } catch (err) {
      return this.#failed(err);
    } finally {
      this.#asking = undefined;
    }
    if (this.#closed) return;
    this.#answeredAt = Date.now();
    if (this.#failing) this.#log.info("the store answers again: renewing the node agents' leases");
    this.#failing = false;
    for (const agent of this.#o.registry.agents) agent.renewLease(this.#ttlMs);
  }

  #failed(err: unknown): void {
    if (!this.#failing)
      this.#log.error(
        { err, agents: this.#o.registry.agents.length },
        "the store does not answer: this server stops renewing the node agents' leases",
      );
    this.#failing = true;
  }
}
