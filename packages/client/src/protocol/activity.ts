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
