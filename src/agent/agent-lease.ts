import { EventEmitter } from "node:events";

/**
 * Where an agent's lease stands: `held` (a server that reaches the store
 * vouched for it within the lease), `lapsed` (none did for a lease: the
 * channels are fenced), `fenced` (none did for a lease and the grace after
 * it: the workloads are stopped too).
 */
export type LeaseState = "held" | "lapsed" | "fenced";

export interface AgentLeaseEvents {
  /** The state changed; `silentMs`: how long since the last renewal (or the start). */
  changed: [state: LeaseState, before: LeaseState, silentMs: number];
}

/** The lease's clock: time, and one timer at a time (tests pass a fake that steps by hand). */
export interface LeaseClock {
  now(): number;
  /** Calls `fn` after `ms`; answers how to cancel it. */
  after(ms: number, fn: () => void): () => void;
}

export const systemLeaseClock: LeaseClock = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export interface AgentLeaseOptions {
  /** BERTH_AGENT_LEASE_MS: how long the agent serves its channels without a renewal. */
  leaseMs: number;
  /** BERTH_AGENT_FENCE_GRACE_MS: how much longer, after the lease lapsed, before it stops its workloads. */
  graceMs: number;
  clock?: LeaseClock;
}

/**
 * The node agent's lease. Agents never hold database credentials; an API
 * server renews the lease of each agent connected to it (the link's `lease`
 * message) only while its own store answers. No renewal from any server for
 * `leaseMs` → `lapsed`; still none `graceMs` later → `fenced`; a renewal in
 * either → `held` again. The lease must be shorter than Swarm's failure
 * detection (10–15 s): by the time a lost node's workloads are placed again
 * elsewhere, its agent has stopped serving their channels.
 *
 * The agent starts `held`, for one lease: servers it has not reached yet
 * get that long to vouch for it.
 *
 * @example
 *   const lease = new AgentLease({ leaseMs: 10_000, graceMs: 60_000 });
 *   lease.on("changed", (state) => state === "lapsed" && fenceChannels());
 *   socket.on("lease", ({ ttlMs }) => lease.renew(ttlMs));
 */
export class AgentLease extends EventEmitter<AgentLeaseEvents> {
  readonly #leaseMs: number;
  readonly #graceMs: number;
  readonly #clock: LeaseClock;
  #state: LeaseState = "held";
  #renewedAt: number;
  #cancel: (() => void) | undefined;
  #closed = false;

  constructor(options: AgentLeaseOptions) {
    super();
    this.#leaseMs = options.leaseMs;
    this.#graceMs = options.graceMs;
    this.#clock = options.clock ?? systemLeaseClock;
    this.#renewedAt = this.#clock.now();
    this.#arm(this.#leaseMs, "lapsed");
  }

  get state(): LeaseState {
    return this.#state;
  }

  /** Whether the agent may serve its channels now. */
  get held(): boolean {
    return this.#state === "held";
  }

  /**
   * A server vouches for this agent for `ttlMs` (at most the agent's own lease): the lease runs from now
   * for that long. Renewals while held cost one timer each.
   */
  renew(ttlMs: number): void {
    if (this.#closed) return;
    this.#renewedAt = this.#clock.now();
    this.#arm(Math.min(ttlMs, this.#leaseMs), "lapsed");
    this.#become("held");
  }

  /** Stops the clock (the agent is closing). Safe to call twice. */
  close(): void {
    this.#closed = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #arm(ms: number, next: LeaseState): void {
    this.#cancel?.();
    this.#cancel = this.#clock.after(ms, () => {
      this.#cancel = undefined;
      if (this.#closed) return;
      this.#become(next);
      if (next === "lapsed") this.#arm(this.#graceMs, "fenced");
    });
  }

  #become(state: LeaseState): void {
    const before = this.#state;
    if (before === state) return;
    this.#state = state;
    this.emit("changed", state, before, this.#clock.now() - this.#renewedAt);
  }
}
