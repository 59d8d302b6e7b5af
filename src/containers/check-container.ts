/** What marks an image check's throwaway container (images/throwaway-run.ts): it is no workload of a row's. */
export const CHECK_LABEL = "berth.check";
/**
 * When the check that made it is over at the latest, in ms since the epoch. A throwaway has no row, so a
 * reconciliation or a sweep for stale copies would take it for an orphan; until this moment it is a check
 * under way (in a cluster, possibly another API server's) and is left to the check, which removes it.
 */
export const CHECK_UNTIL_LABEL = "berth.check-until";

/**
 * Margin past a check's own bounds (connect and request timeouts) before its container is anybody's to
 * remove: the engine's create and start on a loaded node, the clean-up itself, and the clocks of two API
 * servers that may differ by some seconds.
 */
export const CHECK_MARGIN_MS = 60_000;

/**
 * Whether an engine container with `labels` is an image check's throwaway still under way at `now`:
 * then no reconciliation or sweep removes it. A check's container past its time is an orphan like any
 * (its berth died, or its node's agent was away when it ended).
 *
 * @example checkUnderWay({ "berth.check": "image", "berth.check-until": "1764662400000" }, Date.now())
 */
export function checkUnderWay(labels: Readonly<Record<string, string>>, now: number): boolean {
  if (labels[CHECK_LABEL] === undefined) return false;
  const until = Number(labels[CHECK_UNTIL_LABEL]);
  return Number.isSafeInteger(until) && until > now;
}
