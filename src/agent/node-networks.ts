import type { DockerClient } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { EgressFilterUnavailableError } from "../network/egress-filter-unavailable-error.ts";
import type { EgressFirewall } from "../network/egress-firewall.ts";
import { ownerNetworkName, ownerNetworkSpec } from "../network/owner-network-spec.ts";

/** Marks the owner networks a node agent made, so that its re-check finds its own and no other's. */
export const AGENT_NETWORK_LABEL = "berth.node-agent";
/** How often the node's owner networks are re-checked (their rules put back, unused ones removed), by default. */
export const NODE_NETWORK_RECHECK_MS = 30_000;
/**
 * An owner network no container uses is removed by the re-check only once it was last asked for longer
 * ago than this many re-check intervals (2 minutes by default): between an `ensure` and the create that
 * puts a workload on it there is no container yet.
 */
export const UNUSED_GRACE_INTERVALS = 4;

export interface NodeNetworksOptions {
  /** This node's own engine (networks are made here, never through the workloads-only view's refusal). */
  docker: DockerClient;
  /** This node's egress filter, with this node's policy (BERTH_EGRESS_ALLOW/BLOCK of the agent). */
  firewall: EgressFirewall;
  log: SystemLogger;
  /** NODE_NETWORK_RECHECK_MS by default (BERTH_AGENT_EGRESS_RECHECK_MS). */
  recheckMs?: number;
  now?: () => number;
}

/**
 * The owner networks of one node, kept by its agent in cluster mode, with
 * exactly single-host berth's guarantees: a workload with `network:
 * 'outbound'` joins its owner's bridge on the node it runs on, and that
 * bridge's egress filter is in place before the API server starts the
 * workload (every start asks `ensure` first, as a single host protects before
 * each start). A node that cannot filter (no iptables, no permission, an
 * engine without its DOCKER-USER chain) answers EGRESS_FILTER_UNAVAILABLE and
 * makes nothing: never an unfiltered outbound workload.
 *
 * The agent owns its node's firewall, so it also keeps the rules there: every
 * 30 s by default (and at start) it puts the filter back on each owner network it made
 * (a firewall reload, ufw or firewalld, flushes them while workloads run),
 * removes the rules of bridges that went, and removes an owner network no
 * container of the node uses any more (a workload moved off this node, its
 * stale copy swept) once it was not asked for within four such intervals. Every
 * name, label and option is built here from an owner and an instance id the
 * link checked (agent-link/network-ops.ts); nothing free-form is taken.
 *
 * @example
 *   const networks = new NodeNetworks({ docker, firewall, log });
 *   networks.start();
 *   const { name } = await networks.ensure(instanceId, "alice");
 *   networks.close();
 */
export class NodeNetworks {
  readonly #o: NodeNetworksOptions;
  readonly #log: SystemLogger;
  readonly #now: () => number;
  /** When each network was last asked for by `ensure` (names this agent process has seen). */
  readonly #asked = new Map<string, number>();
  readonly #startedAt: number;
  #timer: NodeJS.Timeout | undefined;
  #passing: Promise<void> | undefined;
  /**
   * Releases and re-check passes, one at a time: a pass that inspected a network before a release removed
   * it would put its rules back. (A pass that listed the networks before an ensure made one spares that
   * bridge's rules: EgressFirewall.mark.)
   */
  #serial: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: NodeNetworksOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: "NodeNetworks" });
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
  }

  /** The owner's bridge on this node, filtered; EGRESS_FILTER_UNAVAILABLE (nothing made) when it cannot be. */
  ensure(instanceId: string, owner: string): Promise<{ name: string }> {
    // Beside a pass, not behind it: a pass spares what is protected while it runs (EgressFirewall.mark),
    // and a start must not wait for a pass over every network of a busy node.
    return this.#ensure(instanceId, owner);
  }

  async #ensure(instanceId: string, owner: string): Promise<{ name: string }> {
    const status = await this.#o.firewall.check();
    if (!status.available) {
      this.#log.error(
        { reason: status.reason },
        "refused an outbound network: this node cannot filter it (iptables with Docker's DOCKER-USER chain is needed)",
      );
      throw new EgressFilterUnavailableError({ cause: new Error(status.reason) });
    }
    const spec = ownerNetworkSpec(instanceId, owner, { [AGENT_NETWORK_LABEL]: "true" });
    this.#asked.set(spec.name, this.#now());
    const info = await this.#o.docker.ensureNetwork(spec);
    await this.#o.firewall.protect(info.bridge);
    return { name: spec.name };
  }

  /** Removes the owner's bridge and its rules unless a container of this node uses it; true when it is gone. */
  release(instanceId: string, owner: string): Promise<boolean> {
    return this.#oneAtATime(() => this.#release(instanceId, owner));
  }

  async #release(instanceId: string, owner: string): Promise<boolean> {
    const name = ownerNetworkName(instanceId, owner);
    const info = await this.#o.docker.inspectNetwork(name);
    if (!info) return true;
    if ((await this.#networksInUse({ "berth.owner": owner })).has(name)) return false;
    return this.#remove(name, info.bridge);
  }

  /**
   * Says once whether this node can filter, so that an operator sees it at the agent's start, and answers
   * it (the agent's hello carries it, so that outbound workloads are placed where they can run). A
   * warning, not an error: a cluster that never asks for outbound workloads needs no filter on its nodes.
   */
  async report(): Promise<boolean> {
    const status = await this.#o.firewall.check();
    if (status.available)
      this.#log.info("egress filter available: this node takes outbound workloads, filtered");
    else
      this.#log.warn(
        { reason: status.reason },
        "egress filter unavailable (iptables with Docker's DOCKER-USER chain is needed, as root): this node refuses outbound workloads",
      );
    return status.available;
  }

  /** Starts the periodic re-check, with a first pass now. Safe to call twice. */
  start(): void {
    if (this.#closed || this.#timer) return;
    void this.recheck();
    this.#timer = setInterval(() => {
      if (!this.#passing) void this.recheck();
    }, this.#o.recheckMs ?? NODE_NETWORK_RECHECK_MS);
    this.#timer.unref();
  }

  /** One pass of the re-check, after any pass under way. Never rejects: a failure is logged, the next pass tries again. */
  recheck(): Promise<void> {
    const pass = this.#oneAtATime(() => this.#pass());
    this.#passing = pass;
    void pass.finally(() => {
      if (this.#passing === pass) this.#passing = undefined;
    });
    return pass;
  }

  /** Stops the re-check and waits for a pass under way. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#serial;
  }

  #oneAtATime<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(step, step);
    this.#serial = run.catch(() => {});
    return run;
  }

  async #pass(): Promise<void> {
    if (this.#closed) return;
    try {
      const since = this.#o.firewall.mark();
      const names = await this.#o.docker.listNetworks({
        "berth.managed": "true",
        [AGENT_NETWORK_LABEL]: "true",
      });
      // A node that never had an owner network has no rules to keep, and may well have no iptables.
      if (names.length === 0 && this.#asked.size === 0) return;
      const inUse = await this.#networksInUse({});
      const bridges = new Set<string>();
      for (const name of names) {
        const info = await this.#o.docker.inspectNetwork(name);
        if (!info) continue;
        if (!inUse.has(name) && this.#idleLongEnough(name)) {
          if (await this.#remove(name, info.bridge)) continue;
        }
        bridges.add(info.bridge);
        try {
          await this.#o.firewall.protect(info.bridge);
        } catch (err) {
          this.#log.error(
            { err, network: name },
            "owner network is NOT filtered: its running containers can reach this node and private ranges",
          );
        }
      }
      await this.#o.firewall.sweep(bridges, since);
    } catch (err) {
      this.#log.error({ err }, "could not check this node's owner networks; they are checked again shortly");
    }
  }

  /**
   * The networks berth's containers of this node (those with `labels` too) are on, in any state: a stopped
   * one starts on its network again, which must still be there.
   */
  async #networksInUse(labels: Record<string, string>): Promise<Set<string>> {
    const used = new Set<string>();
    for (const c of await this.#o.docker.listContainers({ ...labels, "berth.managed": "true" })) {
      const mode = (await this.#o.docker.inspectContainer(c.dockerId))?.HostConfig?.NetworkMode;
      if (mode !== undefined && mode !== "none") used.add(mode);
    }
    return used;
  }

  #idleLongEnough(name: string): boolean {
    const since = this.#asked.get(name) ?? this.#startedAt;
    return this.#now() - since >= UNUSED_GRACE_INTERVALS * (this.#o.recheckMs ?? NODE_NETWORK_RECHECK_MS);
  }

  async #remove(name: string, bridge: string): Promise<boolean> {
    const removed = await this.#o.docker.removeNetwork(name);
    // The rules go only once the network has: a bridge that still has containers stays filtered.
    if (!removed) return false;
    this.#asked.delete(name);
    await this.#o.firewall.release(bridge);
    this.#log.info({ network: name }, "owner network removed from this node");
    return true;
  }
}
