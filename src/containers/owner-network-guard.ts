import type { DockerClient } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { EgressGuard } from "./egress-guard.ts";
import { protectOwnerNetworks } from "./owner-network.ts";

/** How often the owner bridges' egress rules are checked and put back if lost, unless told otherwise. */
export const EGRESS_RECHECK_MS = 30_000;

export interface OwnerNetworkGuardOptions {
  docker: DockerClient;
  egress: EgressGuard;
  instanceId: string;
  log: SystemLogger;
  /** BERTH_ALLOW_NETWORK: outbound containers may be made, so their rules are always kept. */
  allowNetwork: boolean;
  /** Whether any container asks for `network: 'outbound'` (read from the store at each pass). */
  hasOutbound: () => Promise<boolean>;
  /** Default EGRESS_RECHECK_MS. */
  recheckMs?: number;
}

/**
 * Keeps the egress filter on the owner networks: a pass when asked (after
 * each reconciliation) and every `recheckMs` once started, because a host
 * firewall reload (ufw, firewalld) flushes berth's rules while containers
 * run. Passes run one after the other; the periodic one skips its turn while
 * another is under way. `close()` waits for the last pass: one finishing
 * after berth is gone would put rules back for a bridge about to be removed,
 * and leave them behind.
 *
 * @example
 * const guard = new OwnerNetworkGuard({ docker, egress, instanceId, log, allowNetwork, hasOutbound });
 * guard.start();
 * await guard.protect(); // after a reconciliation
 * await guard.close();
 */
export class OwnerNetworkGuard {
  readonly #o: OwnerNetworkGuardOptions;
  #recheck: NodeJS.Timeout | undefined;
  #passing: Promise<void> | undefined;
  #closed = false;

  constructor(options: OwnerNetworkGuardOptions) {
    this.#o = options;
  }

  /** Starts the periodic re-check. */
  start(): void {
    if (this.#closed || this.#recheck) return;
    this.#recheck = setInterval(() => {
      if (!this.#passing) void this.protect();
    }, this.#o.recheckMs ?? EGRESS_RECHECK_MS);
    this.#recheck.unref();
  }

  /**
   * One pass, after any pass under way (so that the engine's return gets a pass that sees what the
   * reconciliation did). Never rejects: a failure is logged, and the next pass tries again.
   */
  protect(): Promise<void> {
    const pass = (this.#passing ?? Promise.resolve()).then(() => this.#pass());
    this.#passing = pass;
    void pass.finally(() => {
      if (this.#passing === pass) this.#passing = undefined;
    });
    return pass;
  }

  /** Stops the re-check and waits for the pass under way. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#recheck);
    await this.#passing;
  }

  async #pass(): Promise<void> {
    if (this.#closed) return;
    // The store is read inside the try: this runs from a timer, where a failed read would be an unhandled
    // rejection, and main.ts ends berth on those.
    try {
      // A server that never ran outbound containers has no rules to keep, and may well have no iptables.
      if (!this.#o.allowNetwork && !(await this.#o.hasOutbound())) return;
      await protectOwnerNetworks(this.#o.docker, this.#o.egress, this.#o.instanceId, this.#o.log);
    } catch (err) {
      this.#o.log.error(
        { err },
        "could not check the egress filter of owner networks; it is checked again shortly",
      );
    }
  }
}
