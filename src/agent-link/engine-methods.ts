import { z } from "zod";
import { CreateBodySchema } from "./create-body-schema.ts";

/**
 * The engine port's calls that an API server may ask of a node agent (the
 * allow-list), each with the zod schema of its arguments — checked by the
 * agent before its engine sees them — and of its answer — checked by the API
 * side before berth sees it — and how long the API side waits for the answer.
 *
 * Arguments travel as a JSON array in the port's order; an optional argument
 * left out arrives as `null`, and a method that returns nothing (or
 * `undefined`) answers `null`. A call's `AbortSignal` does not travel: the
 * API side sends `cancel` with the call's id instead.
 *
 * The rest of the port is not forwarded (see NOT_FORWARDED).
 */

/** An engine container id or a name berth gave (`berth-…`): what the port's methods take. */
const EngineRef = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be an engine id or a container name");

const Labels = z
  .record(z.string().min(1).max(256), z.string().max(4096))
  .refine((l) => Object.keys(l).length <= 64, "at most 64 labels");

const EpochMs = z.number().int().nonnegative();

const EngineVersionSchema = z.strictObject({ version: z.string(), apiVersion: z.string() });

/** What berth reads of `docker inspect` (a loose object: the engine adds fields between versions). */
const ContainerInspectSchema = z.looseObject({
  Id: z.string(),
  Name: z.string(),
  State: z.looseObject({ Status: z.string(), Running: z.boolean(), ExitCode: z.number() }),
  Config: z.looseObject({}),
  HostConfig: z.looseObject({}),
});

export const EngineEventSchema = z.strictObject({
  action: z.string().max(256),
  dockerId: z.string().max(256),
  labels: z.record(z.string(), z.string()),
  exitCode: z.number().int().optional(),
  time: EpochMs,
});

/**
 * One piece of a workload's raw output (the engine's multiplexed log stream), as a push carries it: binary
 * (a Socket.IO attachment), at most OUTPUT_CHUNK_BYTES: small beside what the API server takes in one
 * message (BERTH_MAX_PAYLOAD_BYTES, 16 MiB by default), and a follow's pieces go as the engine sends them.
 */
export const OUTPUT_CHUNK_BYTES = 64 * 1024;
export const OutputChunkSchema = z
  .custom<Uint8Array | ArrayBuffer>(
    (b) => b instanceof Uint8Array || b instanceof ArrayBuffer,
    "must be binary",
  )
  .refine((b) => b.byteLength > 0 && b.byteLength <= OUTPUT_CHUNK_BYTES, "must be 1 to 65536 bytes")
  .transform((b) =>
    b instanceof ArrayBuffer ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );

/** ContainerLogs' MAX_LOG_TAIL (monitoring/container-logs.ts; a test keeps the two in step): the most lines a read or a follow starts with. */
export const MAX_OUTPUT_TAIL = 5_000;

const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * A read of the last lines streams up to MAX_OUTPUT_TAIL of up to 16 KiB each through the link (80 MiB at
 * the very most) before its answer.
 */
const READ_LOGS_TIMEOUT_MS = 60_000;
/**
 * A create can take a while on a busy node (the engine sets up the container's
 * file system layers); the local adapter's own retries take up to 5 s on top.
 */
const CREATE_TIMEOUT_MS = 60_000;

interface MethodSchema<Args extends z.ZodType, Answer extends z.ZodType> {
  args: Args;
  answer: Answer;
  /** How long the API side waits for the answer; undefined: as long as the link lasts (cancel to stop). */
  timeoutMs: (args: z.output<Args>) => number | undefined;
}

const method = <Args extends z.ZodType, Answer extends z.ZodType>(
  args: Args,
  answer: Answer,
  timeoutMs: (args: z.output<Args>) => number | undefined = () => DEFAULT_TIMEOUT_MS,
): MethodSchema<Args, Answer> => ({ args, answer, timeoutMs });

export const ENGINE_METHODS = {
  ping: method(z.tuple([]), z.null()),
  version: method(z.tuple([]), EngineVersionSchema),
  // The probe answers quickly or counts as down (its local modem times out after 2 s).
  probe: method(z.tuple([]), EngineVersionSchema, () => 5_000),
  inspectImage: method(
    z.tuple([z.string().min(1).max(512)]),
    z
      .strictObject({
        entrypoint: z.array(z.string()),
        cmd: z.array(z.string()),
        labels: z.record(z.string(), z.string()),
      })
      .nullable(),
  ),
  createContainer: method(z.tuple([CreateBodySchema]), z.string().min(1).max(256), () => CREATE_TIMEOUT_MS),
  startContainer: method(z.tuple([EngineRef]), z.boolean()),
  // The engine waits `timeoutSec` for the workload to exit before it kills it.
  stopContainer: method(
    z.tuple([EngineRef, z.number().int().min(0).max(3600)]),
    z.null(),
    ([, timeoutSec]) => timeoutSec * 1000 + DEFAULT_TIMEOUT_MS,
  ),
  removeContainer: method(z.tuple([EngineRef]), z.null()),
  updateCpuLimit: method(z.tuple([EngineRef, z.number().int().positive()]), z.null()),
  // As long as the container runs: the API side cancels it, or the link's end fails it.
  waitForExit: method(z.tuple([EngineRef]), z.number().int(), () => undefined),
  inspectContainer: method(z.tuple([EngineRef]), ContainerInspectSchema.nullable()),
  listContainers: method(
    z.tuple([Labels]),
    z.array(
      z.strictObject({
        dockerId: z.string(),
        names: z.array(z.string()),
        labels: z.record(z.string(), z.string()),
        state: z.string(),
      }),
    ),
  ),
  // Answers once subscribed; the events follow as pushes under the call's id, until `cancel` or the stream's end.
  streamEvents: method(z.tuple([Labels, EpochMs]), z.null()),
  containerLogs: method(
    z.tuple([EngineRef, z.number().int().min(0).max(100_000), EpochMs.nullable().optional()]),
    z.array(z.string()),
  ),
  // The output is pushed under the call's id ("engine-output"), in order, and the answer follows the last of it.
  readLogs: method(
    z.tuple([
      EngineRef,
      z.strictObject({ tail: z.number().int().min(0).max(MAX_OUTPUT_TAIL), sinceMs: EpochMs.optional() }),
    ]),
    z.null(),
    () => READ_LOGS_TIMEOUT_MS,
  ),
  // Answers once following; the output follows as pushes under the call's id, until `cancel` or its end.
  followLogs: method(
    z.tuple([
      EngineRef,
      z.union([
        z.strictObject({ tail: z.number().int().min(0).max(MAX_OUTPUT_TAIL) }),
        z.strictObject({ sinceMs: EpochMs }),
      ]),
    ]),
    z.null(),
  ),
} as const;

export type EngineMethod = keyof typeof ENGINE_METHODS;
export type ArgsOf<M extends EngineMethod> = z.input<(typeof ENGINE_METHODS)[M]["args"]>;
export type ParsedArgsOf<M extends EngineMethod> = z.output<(typeof ENGINE_METHODS)[M]["args"]>;
export type AnswerOf<M extends EngineMethod> = z.output<(typeof ENGINE_METHODS)[M]["answer"]>;

export function isEngineMethod(name: string): name is EngineMethod {
  return Object.hasOwn(ENGINE_METHODS, name);
}

/**
 * The port's methods that are not forwarded, and why: each answers
 * NotSupportedError on the API side without reaching an agent. Single-host
 * berth never builds a RemoteDockerClient, so it never meets them.
 */
export const NOT_FORWARDED = {
  containerStats:
    "a node's agent samples its workloads itself, from its cgroup files, the engine's stats as its fallback (usage-ops.ts)",
  ensureNetwork: "an owner's network is made by the agent itself, as a network call (network-ops.ts)",
  inspectNetwork: "an owner's network is made by the agent itself, as a network call (network-ops.ts)",
  removeNetwork: "an owner's network is made by the agent itself, as a network call (network-ops.ts)",
  listNetworks: "an owner's network is made by the agent itself, as a network call (network-ops.ts)",
} as const;
