import { BerthError } from "../errors/berth-error.ts";

/**
 * `network: 'outbound'` was asked for, but berth cannot install the egress
 * filter that keeps the workload from the host and private ranges (no
 * iptables, no permission, no DOCKER-USER chain). berth fails closed: the
 * container is not made rather than run unfiltered. The reason goes to the
 * system log (`cause`), not to the client.
 */
export class EgressFilterUnavailableError extends BerthError {
  constructor(options?: { cause?: unknown }) {
    super(
      "EGRESS_FILTER_UNAVAILABLE",
      "Outbound network is unavailable: this server cannot filter it. Ask its operator.",
      options?.cause === undefined
        ? { details: { field: "network" } }
        : { details: { field: "network" }, cause: options.cause },
    );
  }
}
