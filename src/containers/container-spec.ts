import { z } from "zod";
import { RUNTIMES } from "#protocol";
import { MIN_CPUS } from "../config/config.ts";
import { isSecretKey } from "../logging/redactor.ts";
import {
  hasUnshowableCharacter,
  MAX_SECRET_TOTAL_LENGTH,
  MAX_SECRET_VALUE_LENGTH,
  MIN_SECRET_LENGTH,
  UNSHOWABLE_SECRET_MESSAGE,
} from "../logging/secret-limits.ts";
import { secretValues } from "../logging/secret-registry.ts";
import { ProgressRequest } from "../progress/progress-request.ts";
import { jsonValueProblem } from "../util/json-depth.ts";

/**
 * The container spec a client sends with `container:create`. Unknown fields
 * are rejected at every level: a typo must fail loudly, not be ignored.
 * Limits that depend on the server's configuration (allowed images, memory
 * ceilings, code size) are checked by the ContainerManager.
 */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]*$/;

export const ContainerName = z
  .string()
  .min(1)
  .max(63)
  .regex(
    NAME_PATTERN,
    "must be lower-case letters, digits, '_', '.' or '-', starting with a letter or digit",
  );

const boundedMap = (key: z.ZodString, valueMax: number, maxEntries: number) =>
  z
    .record(key, z.string().max(valueMax))
    .refine((m) => Object.keys(m).length <= maxEntries, `at most ${maxEntries} entries`);

const envKey = z
  .string()
  .max(256)
  .regex(ENV_KEY, "must be a valid environment variable name")
  .refine(
    (k) => !k.startsWith("BERTH_"),
    "the prefix BERTH_ is reserved for the variables berth sets itself (BERTH_SOCKET, BERTH_ID, BERTH_NAME); choose a name without it",
  );

/**
 * A value under a secret-looking key (`DB_PASSWORD`, `API_TOKEN`, …) is
 * registered as a secret like a `secretEnv` value, so it has the same bounds
 * and the same characters (see secret-limits.ts for why). Issues name the
 * variable, never the value.
 */
export const EnvMap = boundedMap(envKey, 32_768, 256).superRefine((env, ctx) => {
  for (const [key, value] of Object.entries(env)) {
    if (!isSecretKey(key)) continue;
    if (value.length > MAX_SECRET_VALUE_LENGTH) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `a value under a secret-looking key may have at most ${MAX_SECRET_VALUE_LENGTH} characters`,
      });
    }
    if (hasUnshowableCharacter(value))
      ctx.addIssue({ code: "custom", path: [key], message: UNSHOWABLE_SECRET_MESSAGE });
  }
});
export const SecretEnvMap = z
  .record(
    envKey,
    z
      .string()
      .min(MIN_SECRET_LENGTH, `secret values must be at least ${MIN_SECRET_LENGTH} characters`)
      .max(MAX_SECRET_VALUE_LENGTH, `secret values may have at most ${MAX_SECRET_VALUE_LENGTH} characters`)
      .refine((value) => !hasUnshowableCharacter(value), UNSHOWABLE_SECRET_MESSAGE),
  )
  .refine((m) => Object.keys(m).length <= 256, "at most 256 entries");
/**
 * Label namespaces a client may not use: berth's own (which mark a container
 * as berth's and name its owner), those Docker reserves for itself — Compose
 * and Swarm act on `com.docker.compose.*` / `com.docker.swarm.*`, so a label
 * there could make `docker compose down` or a swarm node treat a tenant's
 * container as theirs — and the OCI's `org.opencontainers.*`, which tools read
 * as facts about the image. Compared without case, so `Com.Docker.x` is no way round.
 */
export const RESERVED_LABEL_PREFIXES = [
  "berth.",
  "com.docker.",
  "io.docker.",
  "org.dockerproject.",
  "org.opencontainers.",
] as const;

export const LabelMap = boundedMap(
  z
    .string()
    .max(128)
    .regex(LABEL_KEY, "must be letters, digits, '_', '.', '/' or '-'")
    .superRefine((key, ctx) => {
      const prefix = RESERVED_LABEL_PREFIXES.find((p) => key.toLowerCase().startsWith(p));
      if (prefix === undefined) return;
      ctx.addIssue({
        code: "custom",
        message: `the prefix '${prefix}' is reserved (labels under ${RESERVED_LABEL_PREFIXES.map((p) => `${p}*`).join(", ")} belong to berth, Docker or the OCI); choose a key outside them`,
      });
    }),
  1024,
  64,
);

/**
 * Bytes as Socket.IO hands them over (a Buffer). Typed as any Uint8Array,
 * as the protocol declares it: `z.instanceof` alone would narrow the type to
 * one over an ArrayBuffer, which a Node.js Buffer is not declared to be.
 */
const binary = (message: string): z.ZodType<Uint8Array, Uint8Array> => z.instanceof(Uint8Array, { message });

/** File contents: text as a string, anything else as binary (Socket.IO carries a Buffer as binary). */
export const CodeFiles = z.record(
  z.string(),
  z.union([z.string(), binary("must be binary (a Buffer)")], {
    error: "must be text (a string) or binary (a Buffer)",
  }),
);

/**
 * Code as a map of files, or as one tar or tar.gz archive (a Buffer); the
 * same for a create and an update. One object with a check rather than a
 * union of two: a union's error says only "Invalid input", this one names
 * the field that is wrong.
 */
export const CodeUpload = z
  .strictObject({
    files: CodeFiles.optional(),
    archive: binary("must be binary (a Buffer)").optional(),
  })
  .refine(
    (code) => (code.files === undefined) !== (code.archive === undefined),
    "must have exactly one of 'files' (a map of paths to contents) or 'archive' (a tar or tar.gz Buffer)",
  );

export const Resources = z.strictObject({
  memoryMb: z.number().int().min(6).optional(),
  // Docker's floor: a smaller positive value (1e-12) rounds to NanoCpus 0, which the engine reads as "no limit".
  cpus: z.number().min(MIN_CPUS, `cpus must be at least ${MIN_CPUS}`).max(1024).optional(),
  pids: z.number().int().min(8).optional(),
});

/**
 * Free JSON from a client (channel data, health-check requests): plain JSON,
 * no binary, nested at most MAX_JSON_DEPTH deep. Not zod's own z.json(), which
 * recurses once per level and overflows the stack on a payload 10,000 deep
 * before any limit could be checked.
 */
export const JsonData = z.unknown().superRefine((value, ctx) => {
  const problem = jsonValueProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

export const HealthCheck = z.strictObject({
  request: JsonData,
  expect: JsonData.optional(),
  intervalMs: z.number().int().min(1_000).max(3_600_000).optional(),
  timeoutMs: z.number().int().min(10).max(600_000).optional(),
  retries: z.number().int().min(1).max(100).optional(),
});

const ContainerSpecFields = z.strictObject({
  name: ContainerName,
  runtime: z
    .enum(RUNTIMES)
    .optional()
    .describe(
      "The language runtime (default `node` when `image` is left out too): the server's image for it (server:info `runtimes`), whose default command runs `index.js` or `main.py` from the code.",
    ),
  image: z.string().min(1).max(255).optional(),
  command: z.array(z.string().max(4096)).min(1).max(256).optional(),
  env: EnvMap.optional(),
  secretEnv: SecretEnvMap.optional(),
  labels: LabelMap.optional(),
  code: CodeUpload.optional(),
  resources: Resources.optional(),
  network: z.enum(["none", "outbound"]).optional(),
  restartPolicy: z.enum(["no", "on-failure", "always"]).optional(),
  healthCheck: HealthCheck.optional(),
  start: z.boolean().optional(),
  waitReady: z.boolean().optional(),
  /** Not part of the container: asks for `container:progress` events about this create. */
  progress: ProgressRequest.optional(),
});

/**
 * The environment and arguments a process may start with: the kernel refuses
 * an exec whose arguments and environment pass a quarter of the stack limit
 * (2 MiB under Docker's default 8 MiB), and the workload would fail at every
 * start with "argument list too long". Half of that is the spec's; the rest
 * is for the image's own variables and those berth sets.
 */
export const MAX_EXEC_BYTES = 1024 * 1024;

/** Bytes the kernel counts for `env`, `secretEnv` and `command`: each `KEY=value` and argument in UTF-8, with its NUL. */
export function execBytes(spec: Pick<ContainerSpec, "env" | "secretEnv" | "command">): number {
  let bytes = 0;
  for (const map of [spec.env, spec.secretEnv]) {
    for (const [key, value] of Object.entries(map ?? {}))
      bytes += Buffer.byteLength(key) + Buffer.byteLength(value) + 2;
  }
  for (const arg of spec.command ?? []) bytes += Buffer.byteLength(arg) + 1;
  return bytes;
}

/**
 * The fields above; the bound on all of a container's secret values together
 * (see secret-limits.ts); and the bound on what its process starts with.
 */
export const ContainerSpec = ContainerSpecFields.superRefine((spec, ctx) => {
  const exec = execBytes(spec);
  if (exec > MAX_EXEC_BYTES) {
    ctx.addIssue({
      code: "custom",
      path: ["env"],
      message: `env, secretEnv and command together may take at most ${MAX_EXEC_BYTES} bytes (each KEY=value and argument in UTF-8, plus one byte each); this spec takes ${exec}: the kernel would refuse to start its process ("argument list too long")`,
    });
  }
  const total = secretValues(spec.env, spec.secretEnv).reduce((sum, v) => sum + v.length, 0);
  if (total > MAX_SECRET_TOTAL_LENGTH) {
    ctx.addIssue({
      code: "custom",
      path: ["secretEnv"],
      message: `the secret values of one container (secretEnv and env values under secret-looking keys) may have at most ${MAX_SECRET_TOTAL_LENGTH} characters together`,
    });
  }
});

export type ContainerSpec = z.infer<typeof ContainerSpec>;
export type ContainerSpecInput = z.input<typeof ContainerSpec>;

/** What berth keeps of a spec: everything but the code, which lives on disk as releases. */
export type StoredSpec = Omit<ContainerSpec, "code" | "start" | "waitReady" | "progress">;

export function toStoredSpec(spec: ContainerSpec): StoredSpec {
  const { code: _code, start: _start, waitReady: _waitReady, progress: _progress, ...rest } = spec;
  return rest;
}
