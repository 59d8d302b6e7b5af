export type ActivityLevel = "info" | "success" | "warning" | "error";

/**
 * One line of the activity feed: what happened, told in plain words for the
 * people who use the product built on berth. `id` grows monotonically, so a
 * client that reconnects asks for everything after the last id it saw.
 */
export interface ActivityEntry {
  id: number;
  ts: number;
  level: ActivityLevel;
  /** A stable machine-readable name, e.g. `container.started`, `container.update_failed`. */
  action: string;
  containerId?: string;
  containerName?: string;
  message: string;
  details?: Record<string, unknown>;
}

/** What a producer hands the UserActivityLogger; it adds id and ts. `owner` "*" means every owner. */
export interface ActivityDraft {
  owner: string;
  level: ActivityLevel;
  action: string;
  containerId?: string | undefined;
  containerName?: string | undefined;
  message: string;
  details?: Record<string, unknown> | undefined;
}

/** Entries addressed to everyone (engine outages) use this owner. */
export const EVERYONE = "*";
