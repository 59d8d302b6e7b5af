/**
 * What the container manager needs of the egress filter (src/network): a
 * bridge's rules in place before a container on it starts, and gone with the
 * bridge. `protect` throws EGRESS_FILTER_UNAVAILABLE when it cannot, and the
 * container is then not started: berth never runs `network: 'outbound'`
 * unfiltered.
 */
export interface EgressGuard {
  protect(bridge: string): Promise<void>;
  release(bridge: string): Promise<void>;
  /** Where a pass begins: its sweep spares the bridges protected from here on (EgressFirewall.mark). */
  mark(): number;
  /** Removes the rules of every bridge not in `keep` (networks that went while berth was away), but those protected after `since`. */
  sweep(keep: ReadonlySet<string>, since?: number): Promise<void>;
}
