import type { ActivityEntry, ActivityLevel } from "@berth/client";

/** What the activity page shows of the entries: by container, level, kind (the action), owner (the admin's) and text. */
export interface ActivityQuery {
  /** A container's name; "" for every one. */
  container: string;
  level: ActivityLevel | "";
  /** An action, such as `container.started`; "" for every kind. */
  action: string;
  /** An owner's name (the admin's filter); "" for every owner. */
  owner: string;
  /** Part of the message, the container's name or the action, any case. */
  text: string;
}

/** The levels an entry may have, mildest first (the protocol names them as a type only). */
export const ACTIVITY_LEVELS: readonly ActivityLevel[] = ["info", "success", "warning", "error"];

export const ALL_ACTIVITY: ActivityQuery = { container: "", level: "", action: "", owner: "", text: "" };

/**
 * The entries `query` keeps, in their order. `ownerOf` names the owner of an
 * entry's container, as far as the page knows it (an entry does not carry
 * its owner): with an owner asked for, an entry whose owner is not known is
 * left out rather than shown under the wrong one.
 */
export function filterEntries(
  entries: readonly ActivityEntry[],
  query: ActivityQuery,
  ownerOf: (entry: ActivityEntry) => string | undefined = () => undefined,
): ActivityEntry[] {
  const needle = query.text.trim().toLowerCase();
  return entries.filter(
    (e) =>
      (query.container === "" || e.containerName === query.container) &&
      (query.level === "" || e.level === query.level) &&
      (query.action === "" || e.action === query.action) &&
      (query.owner === "" || ownerOf(e) === query.owner) &&
      (needle === "" ||
        e.message.toLowerCase().includes(needle) ||
        (e.containerName ?? "").toLowerCase().includes(needle) ||
        e.action.toLowerCase().includes(needle)),
  );
}

/** The distinct values of `pick` among the entries, sorted: the choices of a filter, from what the page holds. */
export function choices(
  entries: readonly ActivityEntry[],
  pick: (entry: ActivityEntry) => string | undefined,
): string[] {
  const seen = new Set<string>();
  for (const entry of entries) {
    const value = pick(entry);
    if (value) seen.add(value);
  }
  return [...seen].sort((a, b) => a.localeCompare(b));
}
