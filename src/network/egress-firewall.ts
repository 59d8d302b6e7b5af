import { createHash } from "node:crypto";
import type { SystemLogger } from "../logging/system-logger.ts";
import { EgressFilterUnavailableError } from "./egress-filter-unavailable-error.ts";
import type { EgressPolicy } from "./egress-policy.ts";
import type { Iptables } from "./iptables.ts";

export type EgressFilterStatus = { available: true } | { available: false; reason: string };

/** Docker's bridge interfaces: `br-<12 hex>` by default, or a name set by option (at most 15 characters). */
const BRIDGE = /^[A-Za-z0-9_.-]{1,15}$/;
/** Docker evaluates this chain before its own forwarding rules and never writes to it. */
const FORWARD_HOOK = "DOCKER-USER";
/** Traffic from a bridge to any of the host's own addresses (gateway, LAN, public) is local delivery. */
const INPUT_HOOK = "INPUT";
const REJECT = ["-j", "REJECT", "--reject-with", "icmp-admin-prohibited"];

/**
 * The egress filter for owner bridges (`network: 'outbound'`). For each
 * bridge it builds two chains and hooks them in by the bridge's interface:
 *
 * - `BF<policy>-<bridge>`, jumped to from DOCKER-USER for traffic *leaving*
 *   the bridge: allowed ranges RETURN (on to Docker's own rules), blocked
 *   ranges are rejected;
 * - `BI<policy>-<bridge>`, jumped to from INPUT for traffic to the host
 *   itself: allowed ranges RETURN (on to the host's own INPUT rules),
 *   everything else is rejected — whatever address of the host is asked for.
 *
 * REJECT rather than DROP, so a workload fails at once instead of hanging
 * on a timeout. The chain names carry a hash of the policy: a restart with a
 * different policy builds new chains and hooks them in *before* unhooking
 * the old ones, so a running workload is never unfiltered, not even for a
 * moment. Jumps carry the comment `berth:<instance>` so that a clean-up finds
 * this instance's rules and no other's; chains are per bridge, and bridges
 * are per network, so berth instances sharing a host never touch each
 * other's rules. Operations are serialised: concurrent creates for one owner
 * install one set of rules.
 */
export class EgressFirewall {
  readonly #iptables: Iptables;
  readonly #policy: EgressPolicy;
  readonly #tag: string;
  readonly #policyHash: string;
  readonly #log: SystemLogger;
  #tail: Promise<unknown> = Promise.resolve();
  /** Protects so far, and the count at each bridge's last: what a sweep must spare (see `mark`). */
  #protects = 0;
  readonly #protectedAt = new Map<string, number>();

  constructor(options: { iptables: Iptables; policy: EgressPolicy; instanceId: string; log: SystemLogger }) {
    this.#iptables = options.iptables;
    this.#policy = options.policy;
    this.#tag = `berth:${options.instanceId}`;
    this.#log = options.log.child({ component: "EgressFirewall" });
    this.#policyHash = createHash("sha256").update(JSON.stringify(options.policy)).digest("hex").slice(0, 6);
  }

  get policy(): EgressPolicy {
    return this.#policy;
  }

  /** Whether rules can be installed here: iptables runs, as root, and Docker's DOCKER-USER chain exists. */
  async check(): Promise<EgressFilterStatus> {
    try {
      await this.#iptables.run(["-S", FORWARD_HOOK]);
      return { available: true };
    } catch (err) {
      return { available: false, reason: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * Installs (or confirms) the filter for one bridge; idempotent. Must have
   * resolved before a container on that bridge starts. Throws
   * EgressFilterUnavailableError when the rules could not be installed.
   */
  protect(bridge: string): Promise<void> {
    this.#protectedAt.set(bridge, ++this.#protects);
    return this.#serial(async () => {
      assertBridge(bridge);
      try {
        await this.#protect(bridge);
      } catch (err) {
        this.#log.error({ err, bridge }, "could not install the egress filter");
        throw new EgressFilterUnavailableError({ cause: err });
      }
    });
  }

  /** Removes this instance's rules and chains for one bridge (its network is gone). */
  release(bridge: string): Promise<void> {
    this.#protectedAt.delete(bridge);
    return this.#serial(async () => {
      assertBridge(bridge);
      await this.#unhook(bridge, () => true);
    });
  }

  /**
   * Where a re-check pass begins, before it lists the networks: its sweep spares every bridge protected
   * from here on. A network made (and its bridge protected) while the pass ran is not in the pass's list,
   * and its rules must not be swept — its workload would run unfiltered until the next pass.
   */
  mark(): number {
    return this.#protects;
  }

  /**
   * Removes this instance's rules for every bridge not in `keep` (networks removed while berth was away),
   * but those protected after `since` (a `mark`).
   */
  sweep(keep: ReadonlySet<string>, since = Number.POSITIVE_INFINITY): Promise<void> {
    return this.#serial(async () => {
      const hooked = new Set((await this.#hooks()).map((h) => h.bridge));
      for (const bridge of hooked) {
        if (keep.has(bridge) || (this.#protectedAt.get(bridge) ?? 0) > since) continue;
        await this.#unhook(bridge, () => true);
        this.#protectedAt.delete(bridge);
      }
    });
  }

  async #protect(bridge: string): Promise<void> {
    const forward = `BF${this.#policyHash}-${bridge}`;
    const input = `BI${this.#policyHash}-${bridge}`;
    const hooks = await this.#hooks();
    const hooked = (chain: string) => hooks.some((h) => h.chain === chain);
    // A chain is filled before its jump is added, so a hooked chain is complete; an unhooked one may be half-made.
    if (!hooked(forward)) {
      await this.#fill(forward, [
        ...this.#policy.allow.map((cidr) => ["-d", cidr, "-j", "RETURN"]),
        ...this.#policy.block.map((cidr) => ["-d", cidr, ...REJECT]),
      ]);
      await this.#iptables.run(["-I", FORWARD_HOOK, ...this.#jump(bridge, forward)]);
    }
    if (!hooked(input)) {
      await this.#fill(input, [...this.#policy.allow.map((cidr) => ["-d", cidr, "-j", "RETURN"]), REJECT]);
      await this.#iptables.run(["-I", INPUT_HOOK, ...this.#jump(bridge, input)]);
    }
    // Only now that the current policy's chains are in place: the chains of an earlier policy go.
    await this.#unhook(bridge, (chain) => chain !== forward && chain !== input);
    if (!hooked(forward) || !hooked(input))
      this.#log.info({ bridge, forward, input }, "egress filter installed");
  }

  async #fill(chain: string, rules: string[][]): Promise<void> {
    if (await this.#exists(chain)) await this.#iptables.run(["-F", chain]);
    else await this.#iptables.run(["-N", chain]);
    for (const rule of rules) await this.#iptables.run(["-A", chain, ...rule]);
  }

  /** Removes this instance's jumps for `bridge` to the chains `which` picks, then those chains. */
  async #unhook(bridge: string, which: (chain: string) => boolean): Promise<void> {
    const chains = new Set<string>();
    for (const h of await this.#hooks()) {
      if (h.bridge !== bridge || !which(h.chain)) continue;
      await this.#iptables.run(["-D", h.hook, ...this.#jump(bridge, h.chain)]);
      chains.add(h.chain);
    }
    for (const chain of chains) {
      await this.#iptables.run(["-F", chain]);
      await this.#iptables.run(["-X", chain]);
    }
  }

  /** This instance's jumps, as listed by `iptables -S` in both hooks. */
  async #hooks(): Promise<Array<{ hook: string; bridge: string; chain: string }>> {
    const found: Array<{ hook: string; bridge: string; chain: string }> = [];
    for (const hook of [FORWARD_HOOK, INPUT_HOOK]) {
      for (const line of (await this.#iptables.run(["-S", hook])).split("\n")) {
        const m = /^-A \S+ -i (\S+) -m comment --comment "?([^"\s]+)"? -j (B[FI][0-9a-f]{6}-\S+)$/.exec(
          line.trim(),
        );
        if (m && m[2] === this.#tag) found.push({ hook, bridge: m[1] as string, chain: m[3] as string });
      }
    }
    return found;
  }

  async #exists(chain: string): Promise<boolean> {
    try {
      await this.#iptables.run(["-S", chain]);
      return true;
    } catch {
      return false;
    }
  }

  #jump(bridge: string, chain: string): string[] {
    return ["-i", bridge, "-m", "comment", "--comment", this.#tag, "-j", chain];
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => {});
    return run;
  }
}

function assertBridge(bridge: string): void {
  if (!BRIDGE.test(bridge)) throw new Error(`not a bridge interface name: ${bridge}`);
}
