import { z } from "zod";
import { type ClientEvent, type QuotaLimits, type RateLimits, RUNTIMES } from "#protocol";
import type { AllTrue, Same } from "./same-type.ts";

/** What `server:info` answers: the server's version, limits, runtimes, and the caller's own quota and rates. */

const QuotaLimitsSchema = z.object({
  containers: z.number(),
  running: z.number(),
  memoryMb: z.number(),
  cpus: z.number(),
  codeMb: z.number(),
});
const RateSpec = z.object({ perMinute: z.number(), burst: z.number() });
const RateLimitsSchema = z.object({ create: RateSpec, lifecycle: RateSpec, update: RateSpec });

const ServerInfoSchema = z.object({
  version: z.string(),
  channelProtocol: z.number(),
  limits: z.object({
    maxPayloadBytes: z.number(),
    maxCodeBytes: z.number(),
    maxCodeFiles: z.number(),
    maxFrameBytes: z.number(),
    maxRequestTimeoutMs: z.number(),
  }),
  timeouts: z.object({
    readyMs: z
      .number()
      .describe("How long berth waits for a workload's hello after a start (BERTH_READY_TIMEOUT_MS)."),
    stopSec: z.number().describe("How long berth waits for a container to stop (BERTH_STOP_TIMEOUT_SEC)."),
  }),
  images: z.object({ allowed: z.array(z.string()), default: z.string() }),
  runtimes: z
    .array(
      z.object({
        name: z.enum(RUNTIMES),
        image: z.string(),
        entry: z
          .string()
          .nullable()
          .describe(
            "The file of the code the default command runs (`index.js`, `main.py`); create and update check for it.",
          ),
        command: z.array(z.string()).nullable().describe("The image's default command."),
        available: z
          .boolean()
          .nullable()
          .describe("Whether the engine has the image now (null: the engine could not be asked)."),
      }),
    )
    .describe("The runtimes a spec may name; a spec naming neither `runtime` nor `image` gets `node`."),
  quota: z
    .object({
      limits: QuotaLimitsSchema,
      usage: z.object({
        containers: z.number(),
        running: z.number(),
        memoryMb: z.number(),
        cpus: z.number(),
        codeBytes: z.number(),
      }),
    })
    .nullable(),
  rates: RateLimitsSchema.nullable(),
});

export const ServerInfoResults = {
  "server:info": ServerInfoSchema,
} as const satisfies Partial<Record<ClientEvent, z.ZodType>>;

export type ServerInfoSchemasMatchProtocol = AllTrue<{
  quotaLimits: Same<z.output<typeof QuotaLimitsSchema>, QuotaLimits>;
  rateLimits: Same<z.output<typeof RateLimitsSchema>, RateLimits>;
}>;
