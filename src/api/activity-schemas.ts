import { z } from "zod";
import type { ActivityEntry, ClientEvent } from "#protocol";
import type { AllTrue, Same } from "./same-type.ts";
import { EpochMs } from "./wire-primitives.ts";

/** What berth sends of the activity feed: its entries, pushed (`activity_log`) and read back. */

export const ActivityEntrySchema = z.object({
  id: z.number(),
  ts: EpochMs,
  level: z.enum(["info", "success", "warning", "error"]),
  action: z.string(),
  containerId: z.string().optional(),
  containerName: z.string().optional(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const ActivityResults = {
  "activity:history": z.object({ items: z.array(ActivityEntrySchema), hasMore: z.boolean() }),
} as const satisfies Partial<Record<ClientEvent, z.ZodType>>;

export type ActivitySchemasMatchProtocol = AllTrue<{
  activityEntry: Same<z.output<typeof ActivityEntrySchema>, ActivityEntry>;
}>;
