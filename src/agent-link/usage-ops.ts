import { z } from "zod";

/**
 * A workload's resource usage, sampled by the agent of the node it runs on
 * (`{ kind: "usage", id, op, args }`): the agent reads its own node's cgroup
 * files as single-host berth reads its host's (monitoring/container-probe.ts),
 * keeping each container's open files and CPU baseline between samples, and
 * the API side routes each sample to the node of the container's engine copy.
 *
 * The agent holds root on its node, so it takes no API server's word for what
 * to read: the only name a sample may give is a whole engine id (64 hex
 * digits, never a name or a prefix the engine would complete), and the agent
 * samples only berth's own containers of its node (any other is NOT_FOUND:
 * another container's cgroup — the operator's own services — is never read).
 */

/** A whole engine container id, as the engine gives it: the only thing a usage call may name. */
export const ENGINE_ID_PATTERN = /^[0-9a-f]{64}$/;
const EngineId = z.string().regex(ENGINE_ID_PATTERN, "must be a whole engine container id");

/** A count or a size: a finite number, never negative. */
const Count = z.number().nonnegative();

/** ResourceUsage (packages/client/src/protocol/monitoring.ts): what a client sees of a sample. */
const UsageSchema = z.object({
  cpuPercent: Count,
  memoryBytes: Count,
  memoryLimitBytes: Count,
  pids: Count,
  netRxBytes: Count,
  netTxBytes: Count,
  blockReadBytes: Count,
  blockWriteBytes: Count,
  ts: Count,
});

/**
 * PressureReading (monitoring/resource-usage.ts) as the agent reads it: what the limits did and what the
 * workload wrote. `dockerId` is the agent's bare engine id; the API side gives its own handle instead.
 */
const PressureSchema = z.object({
  dockerId: EngineId,
  cpuPeriods: Count.optional(),
  cpuThrottledPeriods: Count.optional(),
  cpuThrottledUs: Count.optional(),
  pidsLimitHits: Count.optional(),
  outputBytes: Count.optional(),
  outputInode: Count.optional(),
  nanoCpus: Count.optional(),
  pidsLimit: z.number().optional(),
  pidsCurrent: Count.optional(),
  /** The agent's monotonic clock: only the differences between two readings of one copy mean anything. */
  atMs: z.number(),
});

export const UsageSampleSchema = z.object({
  usage: UsageSchema,
  source: z.enum(["cgroup", "engine"]),
  pressure: PressureSchema.optional(),
});
export type UsageSample = z.output<typeof UsageSampleSchema>;

/** A sample takes a baseline of 100 ms first, or the engine's stats API (about 1 s) as the fallback. */
const SAMPLE_TIMEOUT_MS = 15_000;

interface OpSchema<Args extends z.ZodType, Answer extends z.ZodType> {
  args: Args;
  answer: Answer;
  timeoutMs: number;
}

export const USAGE_OPS = {
  /** [engine id, fresh]: one sample now; `fresh` forgets what the agent kept of the container first. */
  sample: {
    args: z.tuple([EngineId, z.boolean()]),
    answer: UsageSampleSchema,
    timeoutMs: SAMPLE_TIMEOUT_MS,
  } satisfies OpSchema<z.ZodType, z.ZodType>,
} as const;

export type UsageOp = keyof typeof USAGE_OPS;
export type UsageArgsOf<O extends UsageOp> = z.input<(typeof USAGE_OPS)[O]["args"]>;
export type ParsedUsageArgsOf<O extends UsageOp> = z.output<(typeof USAGE_OPS)[O]["args"]>;
export type UsageAnswerOf<O extends UsageOp> = z.output<(typeof USAGE_OPS)[O]["answer"]>;

export function isUsageOp(name: string): name is UsageOp {
  return Object.hasOwn(USAGE_OPS, name);
}

export const UsageCallSchema = z.strictObject({
  kind: z.literal("usage"),
  id: z.string().min(1).max(32),
  /** An op of USAGE_OPS; the agent checks it. */
  op: z.string().min(1).max(64),
  args: z.array(z.unknown()).max(4),
});
