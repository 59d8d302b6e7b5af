import type { ActivityLevel } from "#protocol";
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
