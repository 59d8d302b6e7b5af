import { z } from "zod";
import {
  type ClientEvent,
  type LogLine,
  MAX_STATS_HISTORY_CONTAINERS,
  type ResourceUsage,
  type TelemetryStream,
} from "#protocol";
import type { AllTrue, Same } from "./same-type.ts";
import { EpochMs, Id } from "./wire-primitives.ts";

/** What berth sends about running containers: resource samples and their history, logs, health changes. */

export const ResourceUsageSchema = z.object({
  cpuPercent: z.number(),
  memoryBytes: z.number(),
  memoryLimitBytes: z.number(),
  pids: z.number(),
  netRxBytes: z.number(),
  netTxBytes: z.number(),
  blockReadBytes: z.number(),
  blockWriteBytes: z.number(),
  ts: EpochMs,
});

const LogLineSchema = z.object({ stream: z.enum(["stdout", "stderr"]), ts: EpochMs, text: z.string() });

export const MonitoringResults = {
  "container:stats": ResourceUsageSchema,
  "container:watch_stats": z.object({ id: Id, intervalMs: z.number() }),
  "container:unwatch_stats": z.object({ id: Id, watching: z.boolean() }),
  "containers:watch_stats": z.object({
    intervalMs: z.number(),
    containers: z.number().describe("How many running containers the overview samples now."),
  }),
  "containers:unwatch_stats": z.object({ watching: z.literal(false) }),
  "container:stats_history": z.object({
    id: Id,
    intervalMs: z.number().describe("One sample kept per interval."),
    samples: z
      .array(ResourceUsageSchema)
      .describe("Oldest first, at most 10 minutes of them; empty while the container does not run."),
  }),
  "containers:stats_history": z.object({
    intervalMs: z.number(),
    containers: z
      .array(z.object({ id: Id, samples: z.array(ResourceUsageSchema) }))
      .describe(
        `The caller's running containers (an admin's: all), oldest first, at most ${MAX_STATS_HISTORY_CONTAINERS}.`,
      ),
    truncated: z.literal(true).optional().describe("More containers run than the answer holds."),
  }),
  "container:logs": z.object({
    lines: z.array(LogLineSchema),
    truncated: z
      .literal(true)
      .optional()
      .describe("Older lines were left out to keep the answer within 4 MiB (MAX_LOG_ANSWER_BYTES)."),
  }),
  "container:follow_logs": z.object({ id: Id, following: z.literal(true) }),
  "container:unfollow_logs": z.object({ id: Id, following: z.boolean() }),
} as const satisfies Partial<Record<ClientEvent, z.ZodType>>;

/** `container:resource_usage`: one container's sample, to the connections watching it. */
export const ResourceUsageEvent = ResourceUsageSchema.extend({ id: Id });

/** `containers:resource_usage`: the overview's samples, to the connection watching it. */
export const ResourceOverviewEvent = z.object({ ts: EpochMs, samples: z.array(ResourceUsageEvent) });

/** `container:log`: a line of output, to the connections following the container's logs. */
export const LogEvent = LogLineSchema.extend({ id: Id });

/** `container:dropped`: telemetry left out for a connection that fell behind. */
export const DroppedEvent = z.object({
  id: Id,
  stream: z.enum(["logs", "stats", "messages"]),
  count: z.number(),
});

/** `container:health_changed`: to the owner's connections and the admins'. */
export const HealthChangedEvent = z.object({
  id: Id,
  name: z.string(),
  health: z.string(),
  previous: z.string(),
  reason: z.string(),
  ts: EpochMs,
});

export type MonitoringSchemasMatchProtocol = AllTrue<{
  resourceUsage: Same<z.output<typeof ResourceUsageSchema>, ResourceUsage>;
  logLine: Same<z.output<typeof LogLineSchema>, LogLine>;
  telemetryStream: Same<z.output<typeof DroppedEvent>["stream"], TelemetryStream>;
}>;
