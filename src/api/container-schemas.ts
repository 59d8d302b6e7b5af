import { z } from "zod";
import {
  type ClientEvent,
  CONTAINER_STATES,
  type ContainerDetail,
  type ContainerInfo,
  CREATE_STEPS,
  HEALTH_STATES,
  RUNTIMES,
  type StepStatus,
  UPDATE_STEPS,
} from "#protocol";
import { ChannelInfoSchema } from "./channel-schemas.ts";
import type { AllTrue, Same } from "./same-type.ts";
import { EpochMs, Id, Timings } from "./wire-primitives.ts";

/** What berth sends about containers: their info, the answers to lifecycle events, status changes, progress. */

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
  state: z.enum(CONTAINER_STATES),
  health: z.enum(HEALTH_STATES),
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
  channel: ChannelInfoSchema.optional(),
});

const ContainerDetailSchema = ContainerInfoSchema.extend({ spec: ContainerSpecInfoSchema });

const CreatedContainer = ContainerInfoSchema.extend({
  timings: Timings([...CREATE_STEPS, "total"]).describe(
    "Milliseconds each step took (0 for a step that did not run), like an update's.",
  ),
});

export const ContainerResults = {
  "container:create": CreatedContainer,
  "container:start": ContainerInfoSchema,
  "container:stop": ContainerInfoSchema,
  "container:restart": ContainerInfoSchema,
  "container:delete": z.object({ id: Id.optional(), deleted: z.boolean() }),
  "container:status": z.union([ContainerDetailSchema, ContainerInfoSchema]),
  "container:list": z.object({ items: z.array(ContainerInfoSchema), nextCursor: z.string().optional() }),
} as const satisfies Partial<Record<ClientEvent, z.ZodType>>;

/** `container:status_changed`: to the owner's connections and the admins'. */
export const StatusChangedEvent = z.object({
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
});

/** `container:progress`: the steps of a create, a restart or an update, to the connection that asked. */
export const ProgressEvent = z.object({
  opId: z.string(),
  id: Id,
  step: z
    .enum([...new Set([...CREATE_STEPS, ...UPDATE_STEPS])])
    .describe("A step of a create or an update; a restart's steps (stop, start, ready) are among these too."),
  status: z.enum(["started", "done", "failed"]),
  ms: z.number().optional().describe("Milliseconds the step took; on `done` and `failed` only."),
});

export type ContainerSchemasMatchProtocol = AllTrue<{
  containerInfo: Same<z.output<typeof ContainerInfoSchema>, ContainerInfo>;
  containerDetail: Same<z.output<typeof ContainerDetailSchema>, ContainerDetail>;
  stepStatus: Same<z.output<typeof ProgressEvent>["status"], StepStatus>;
}>;
