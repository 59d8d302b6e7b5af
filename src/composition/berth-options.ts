import type { SecretRegistry } from "../logging/secret-registry.ts";
import type { Iptables } from "../network/iptables.ts";

export interface BerthOptions {
  /** Where JSON log lines go (tests read them); stdout by default. */
  logDestination?: NodeJS.WritableStream;
  /** Called once with a freshly generated admin token and the file that keeps it, to print it to the terminal. */
  onAdminTokenCreated?: (token: string, file: string) => void;
  /** The host's packet filter for `network: 'outbound'` (tests pass a missing binary); the `iptables` on the PATH by default. */
  iptables?: Iptables;
  /** How often the owner bridges' egress rules are checked and put back if lost (default 30 s). */
  egressRecheckMs?: number;
  /**
   * Cluster mode: how often the leading server runs its own pass over every row (default STEWARD_PASS_MS,
   * a minute): what a killed server left is finished within it. Tests shorten it.
   */
  stewardPassMs?: number;
  /** Where the built dashboard is (default packages/dashboard/dist, which set-up builds). */
  dashboardDir?: string;
  /** The registry to fill; main.ts passes its own, so that its fatal-error report hides what berth registered. */
  secrets?: SecretRegistry;
}
