import { type EnvOf, envInt } from "../env-values.ts";

/** How much of the activity feed berth keeps. */
export const ActivityEnv = {
  BERTH_ACTIVITY_MAX_ENTRIES: envInt(10_000, 10),
  BERTH_ACTIVITY_MAX_AGE_DAYS: envInt(30, 1, 3650),
};

export interface ActivityConfig {
  readonly activityMaxEntries: number;
  readonly activityMaxAgeMs: number;
}

export function activityConfig(e: EnvOf<typeof ActivityEnv>): ActivityConfig {
  return {
    activityMaxEntries: e.BERTH_ACTIVITY_MAX_ENTRIES,
    activityMaxAgeMs: e.BERTH_ACTIVITY_MAX_AGE_DAYS * 86_400_000,
  };
}
