import { z } from "zod";
import { type ClientEvent, GATE_STEPS, type ReleaseInfo, type UpdateResult } from "#protocol";
import type { AllTrue, Same } from "./same-type.ts";
import { EpochMs, Id, Timings } from "./wire-primitives.ts";

/** What berth answers about a container's code: an update's or a rollback's result, the releases kept. */

const UpdateResultSchema = z.object({
  id: Id,
  release: z.number(),
  previousRelease: z.number().nullable(),
  timings: Timings(["validate", "write", ...GATE_STEPS, "total"]),
});

const ReleaseInfoSchema = z.object({
  number: z.number(),
  status: z.enum(["pending", "active", "previous", "failed", "rolled-back"]),
  createdAt: EpochMs,
  createdBy: z.string(),
  bytes: z.number(),
  files: z.number(),
  hash: z.string(),
});

export const UpdateResults = {
  "container:update": UpdateResultSchema,
  "container:rollback": UpdateResultSchema,
  "container:releases": z.object({ items: z.array(ReleaseInfoSchema) }),
} as const satisfies Partial<Record<ClientEvent, z.ZodType>>;

export type UpdateSchemasMatchProtocol = AllTrue<{
  updateResult: Same<z.output<typeof UpdateResultSchema>, UpdateResult>;
  releaseInfo: Same<z.output<typeof ReleaseInfoSchema>, ReleaseInfo>;
}>;
