import { z } from "zod";
import {
  type ActivityEntry,
  type ClientEvent,
  CONTAINER_STATES,
  type ContainerDetail,
  type ContainerInfo,
  CREATE_STEPS,
  ERROR_CODES,
  type ErrorCategory,
  type ErrorCode,
  GATE_STEPS,
  HEALTH_STATES,
  IMAGE_CHECKS,
  type ImageCheckItem,
  type ImageCheckResult,
  type LogLine,
  MAX_STATS_HISTORY_CONTAINERS,
  type QuotaLimits,
  type RateLimits,
  type ReleaseInfo,
  type ResourceUsage,
  type ResultMap,
  RUNTIMES,
  type ServerToClientEvents,
  type StepStatus,
  type TelemetryStream,
  UPDATE_STEPS,
  type UpdateResult,
} from "#protocol";
import type { Same } from "./same-type.ts";

/**
 * zod schemas of what berth sends: every acknowledgement's `data`, the error
 * envelope and every pushed event. The server does not validate its own
 * answers with them; they are what the API document (asyncapi.ts) is
 * generated from. What each of them is, is declared once in the protocol
 * (`#protocol`); the checks at the end of this file fail `tsc` when a schema
 * here and the protocol's type differ in either direction, or when an event
 * of the protocol has no schema.
 */
const Id = z.string();
const EpochMs = z.number();

const ContainerState = z.enum(CONTAINER_STATES);
const HealthState = z.enum(HEALTH_STATES);

const ChannelInfo = z.object({
  connected: z.boolean(),
  connectedAt: EpochMs.optional(),
  lastSeenAt: EpochMs.optional(),
  rttMs: z.number().optional(),
  protocol: z.number().optional(),
});

const HealthCheckSchema = z.object({
  request: z.unknown(),
  expect: z.unknown().optional(),
  intervalMs: z.number().optional(),
  timeoutMs: z.number().optional(),
  retries: z.number().optional(),
});

const ContainerSpecInfoSchema = z
  .object({
    command: z.array(z.string()).optional().describe("Absent when the image's own command runs."),
    env: z
      .record(z.string(), z.string())
      .describe("The env values that are not secret, redacted as the owner's other text is."),
    secretEnvKeys: z
      .array(z.string())
      .describe(
        "The keys of secretEnv and of env entries under secret-looking keys, sorted; their values are never sent.",
      ),
    resources: z
      .object({ memoryMb: z.number(), cpus: z.number(), pids: z.number() })
      .describe(
        "The limits the container runs under: the spec's, the server's defaults where it named none.",
      ),
    healthCheck: HealthCheckSchema.optional(),
    truncated: z
      .object({
        env: z.array(z.string()).describe("Env keys whose value is shown cut to 1,024 characters."),
        args: z.array(z.number()).describe("Positions of the command arguments shown cut likewise."),
        omittedEnv: z.number().describe("Env entries left out as the spec reached 64 KiB."),
        omittedArgs: z.number().describe("Command arguments left out at its end, likewise."),
        healthCheck: z
          .boolean()
          .describe("The health check's request or answer is shown as its JSON text, cut."),
      })
      .optional()
      .describe("What was cut or left out to keep the answer small; absent when nothing was."),
  })
  .describe(
    "What the container was created with, secret values left out, bounded; in container:status answers with spec: true only.",
  );

export const ContainerInfoSchema = z.object({
  id: Id,
  name: z.string(),
  owner: z.string(),
  image: z.string(),
  runtime: z
    .enum(RUNTIMES)
    .optional()
    .describe(
      "The image's `berth.runtime` label, or the runtime the server configured the image for; absent for a custom image that says neither.",
    ),
  labels: z.record(z.string(), z.string()),
  state: ContainerState,
  health: HealthState,
  createdAt: EpochMs,
  startedAt: EpochMs.nullable().describe(
    "When the current run began; null while the workload does not run (any state but running, paused, stopping, updating).",
  ),
  restartCount: z
    .number()
    .int()
    .nonnegative()
    .describe(
      "Starts since create by the restart policy, by container:restart and from outside berth; not client starts, updates or rollbacks.",
    ),
  exitCode: z.number().optional(),
  release: z.number().optional(),
  restartPolicy: z.enum(["no", "on-failure", "always"]),
  network: z.enum(["none", "outbound"]),
  channel: ChannelInfo.optional(),
});

const ContainerDetailSchema = ContainerInfoSchema.extend({ spec: ContainerSpecInfoSchema });

const Timings = <const K extends string>(keys: readonly K[]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.number()])) as Record<K, z.ZodNumber>);

const CreatedContainer = ContainerInfoSchema.extend({
  timings: Timings([...CREATE_STEPS, "total"]).describe(
    "Milliseconds each step took (0 for a step that did not run), like an update's.",
  ),
});

const ActivityEntrySchema = z.object({
  id: z.number(),
  ts: EpochMs,
  level: z.enum(["info", "success", "warning", "error"]),
  action: z.string(),
  containerId: z.string().optional(),
  containerName: z.string().optional(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});

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

const ImageCheckItemSchema = z.object({
  name: z.enum(IMAGE_CHECKS),
  status: z.enum(["passed", "failed", "skipped"]),
  summary: z.string().describe("What berth found, in words."),
  fix: z.string().optional().describe("What to change so that the check passes (failed checks only)."),
});

const ImageCheckResultSchema = z.object({
  image: z.string(),
  ok: z.boolean().describe("Every check passed: berth can run workloads in this image."),
  allowed: z.boolean().describe("Whether BERTH_ALLOWED_IMAGES lists the image."),
  runtime: z.string().optional().describe("The image's `berth.runtime` label."),
  code: z
    .enum(["probe", "given", "none"])
    .describe("What ran as the workload's code: berth's probe for the runtime, the code given, or none."),
  protocol: z.number().optional().describe("The channel protocol version the workload said hello with."),
  exitCode: z.number().optional().describe("The workload's exit code, when it exited during the check."),
  output: z
    .array(z.string())
    .optional()
    .describe("The last lines the workload printed, sanitised and redacted (on failure)."),
  checks: z.array(ImageCheckItemSchema).describe(`In this order: ${IMAGE_CHECKS.join(", ")}.`),
  ms: z.number(),
});

/** The `data` of each event's successful acknowledgement. */
export const ResultSchemas = {
  "container:create": CreatedContainer,
  "container:start": ContainerInfoSchema,
  "container:stop": ContainerInfoSchema,
  "container:restart": ContainerInfoSchema,
  "container:delete": z.object({ id: Id.optional(), deleted: z.boolean() }),
  "container:status": z.union([ContainerDetailSchema, ContainerInfoSchema]),
  "container:list": z.object({ items: z.array(ContainerInfoSchema), nextCursor: z.string().optional() }),
  "activity:history": z.object({ items: z.array(ActivityEntrySchema), hasMore: z.boolean() }),
  "container:send": z.object({ id: Id }),
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
  "container:update": UpdateResultSchema,
  "container:rollback": UpdateResultSchema,
  "container:releases": z.object({ items: z.array(ReleaseInfoSchema) }),
  "container:request": z.unknown().describe("The workload's answer: any JSON value."),
  "container:subscribe": z.object({ id: Id, subscribed: z.literal(true) }),
  "container:unsubscribe": z.object({ id: Id, subscribed: z.literal(false) }),
  "server:info": ServerInfoSchema,
  "image:check": ImageCheckResultSchema,
} as const satisfies Record<ClientEvent, z.ZodType>;

const ERROR_CATEGORIES = ["validation", "docker", "communication", "system", "auth"] as const;

export const WireErrorSchema = z.object({
  code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).describe(
    `A code of the registry (docs/errors.md), each with its category and whether a retry may succeed: ${Object.entries(
      ERROR_CODES,
    )
      .map(([code, d]) => `${code} (${d.category}${d.retryable ? ", retryable" : ""}): ${d.message}`)
      .join(" ")}`,
  ),
  category: z.enum(ERROR_CATEGORIES),
  message: z.string(),
  retryable: z.boolean(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** `{ ok: false, error }`: the acknowledgement of every event that failed. */
export const ErrorEnvelopeSchema = z.object({ ok: z.literal(false), error: WireErrorSchema });

const ResourceUsageEvent = ResourceUsageSchema.extend({ id: Id });

/** The payload of each server→client event. */
export const EventSchemas = {
  "container:resource_usage": ResourceUsageEvent,
  "containers:resource_usage": z.object({ ts: EpochMs, samples: z.array(ResourceUsageEvent) }),
  "container:log": LogLineSchema.extend({ id: Id }),
  "container:message": z.object({ id: Id, data: z.unknown(), ts: EpochMs }),
  "container:dropped": z.object({
    id: Id,
    stream: z.enum(["logs", "stats", "messages"]),
    count: z.number(),
  }),
  "container:health_changed": z.object({
    id: Id,
    name: z.string(),
    health: z.string(),
    previous: z.string(),
    reason: z.string(),
    ts: EpochMs,
  }),
  "container:status_changed": z.object({
    id: Id,
    name: z.string(),
    from: z.string(),
    to: z.string(),
    health: z.string(),
    exitCode: z.number().optional(),
    oomKilled: z.boolean().optional(),
    startedAt: EpochMs.nullable().describe("The container's startedAt after the change."),
    restartCount: z.number().int().nonnegative().describe("The container's restartCount after the change."),
    reason: z.string(),
    ts: EpochMs,
  }),
  "container:progress": z.object({
    opId: z.string(),
    id: Id,
    step: z
      .enum([...new Set([...CREATE_STEPS, ...UPDATE_STEPS])])
      .describe(
        "A step of a create or an update; a restart's steps (stop, start, ready) are among these too.",
      ),
    status: z.enum(["started", "done", "failed"]),
    ms: z.number().optional().describe("Milliseconds the step took; on `done` and `failed` only."),
  }),
  activity_log: ActivityEntrySchema,
  "session:revoked": z.object({ reason: z.literal("token_revoked"), ts: EpochMs }),
} as const satisfies Record<keyof ServerToClientEvents, z.ZodType>;

type AllTrue<T extends Record<string, true>> = T;

export type ResultSchemasMatchContract = AllTrue<{
  [E in ClientEvent]: Same<z.output<(typeof ResultSchemas)[E]>, ResultMap[E]>;
}>;
export type EventSchemasMatchContract = AllTrue<{
  [E in keyof ServerToClientEvents]: Same<
    z.output<(typeof EventSchemas)[E]>,
    Parameters<ServerToClientEvents[E]>[0]
  >;
}>;
export type SharedSchemasMatchTypes = AllTrue<{
  errorCode: Same<z.output<typeof WireErrorSchema>["code"], ErrorCode>;
  category: Same<z.output<typeof WireErrorSchema>["category"], ErrorCategory>;
  containerInfo: Same<z.output<typeof ContainerInfoSchema>, ContainerInfo>;
  containerDetail: Same<z.output<typeof ContainerDetailSchema>, ContainerDetail>;
  activityEntry: Same<z.output<typeof ActivityEntrySchema>, ActivityEntry>;
  resourceUsage: Same<z.output<typeof ResourceUsageSchema>, ResourceUsage>;
  logLine: Same<z.output<typeof LogLineSchema>, LogLine>;
  updateResult: Same<z.output<typeof UpdateResultSchema>, UpdateResult>;
  releaseInfo: Same<z.output<typeof ReleaseInfoSchema>, ReleaseInfo>;
  imageCheckItem: Same<z.output<typeof ImageCheckItemSchema>, ImageCheckItem>;
  imageCheckResult: Same<z.output<typeof ImageCheckResultSchema>, ImageCheckResult>;
  quotaLimits: Same<z.output<typeof QuotaLimitsSchema>, QuotaLimits>;
  rateLimits: Same<z.output<typeof RateLimitsSchema>, RateLimits>;
  stepStatus: Same<z.output<(typeof EventSchemas)["container:progress"]>["status"], StepStatus>;
  telemetryStream: Same<z.output<(typeof EventSchemas)["container:dropped"]>["stream"], TelemetryStream>;
}>;
