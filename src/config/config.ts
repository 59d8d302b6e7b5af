import { resolve } from "node:path";
import { z } from "zod";

/**
 * The one place that reads the environment. Everything else receives this
 * frozen object, so a test builds a server from a plain record and a typo in a
 * variable's value stops berth at start-up with a message naming it.
 */
const MiB = 1024 * 1024;

const int = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");
const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

const EnvSchema = z.object({
  BERTH_HOST: z.string().default("127.0.0.1"),
  BERTH_PORT: int(7300, 0, 65535),
  BERTH_DATA_DIR: z.string().default("./data"),
  BERTH_RUN_DIR: z.string().optional(),
  BERTH_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  BERTH_DEFAULT_IMAGE: z.string().min(1).default("berth/runtime-node:24"),
  BERTH_ALLOWED_IMAGES: list,
  BERTH_TOKENS: list,
  BERTH_ADMIN_TOKEN: z.string().optional(),
  BERTH_ALLOW_NETWORK: bool(false),
  BERTH_MAX_PAYLOAD_BYTES: int(16 * MiB, 1024),
  BERTH_MAX_CODE_BYTES: int(8 * MiB, 1),
  BERTH_MAX_CODE_FILES: int(10_000, 1),
  BERTH_MAX_FRAME_BYTES: int(MiB, 1024),
  BERTH_UID_RANGE: z
    .string()
    .regex(/^\d+-\d+$/, "expected FIRST-LAST, e.g. 200000-299999")
    .default("200000-299999"),
  BERTH_DEFAULT_MEMORY_MB: int(256, 6),
  BERTH_MAX_MEMORY_MB: int(4096, 6),
  BERTH_DEFAULT_PIDS: int(256, 8),
  BERTH_MAX_PIDS: int(4096, 8),
  BERTH_MAX_CPUS: z.coerce.number().positive().default(2),
  BERTH_STOP_TIMEOUT_SEC: int(10, 0, 600),
  BERTH_READY_TIMEOUT_MS: int(30_000, 100, 600_000),
  BERTH_MAX_REQUEST_TIMEOUT_MS: int(30_000, 10, 3_600_000),
  BERTH_KEEP_RELEASES: int(5, 1, 1000),
  BERTH_MAX_RESTARTS: int(5, 0, 1000),
  BERTH_RESTART_RESET_MS: int(60_000, 1000),
  BERTH_RESTART_BASE_DELAY_MS: int(1_000, 10, 600_000),
  BERTH_ACTIVITY_MAX_ENTRIES: int(10_000, 10),
  BERTH_ACTIVITY_MAX_AGE_DAYS: int(30, 1, 3650),
  // Per connection: telemetry is dropped above the first, the connection cut off above the second after the grace.
  BERTH_CLIENT_BUFFER_BYTES: int(MiB, 64 * 1024),
  BERTH_CLIENT_BUFFER_MAX_BYTES: int(16 * MiB, 128 * 1024),
  BERTH_CLIENT_BUFFER_GRACE_MS: int(10_000, 100, 600_000),
  BERTH_MAX_REQUESTS_IN_FLIGHT: int(1024, 0, 1_000_000),
  BERTH_MAX_SUBSCRIPTIONS: int(128, 1, 100_000),
  BERTH_DOCKER_SOCKET: z.string().optional(),
  DOCKER_HOST: z.string().optional(),
});

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly runDir: string;
  readonly logLevel: string;
  readonly defaultImage: string;
  readonly allowedImages: readonly string[];
  /** owner → token */
  readonly tokens: ReadonlyMap<string, string>;
  readonly adminToken: string | undefined;
  readonly allowNetwork: boolean;
  readonly maxPayloadBytes: number;
  readonly maxCodeBytes: number;
  readonly maxCodeFiles: number;
  readonly maxFrameBytes: number;
  readonly uidRange: { readonly first: number; readonly last: number };
  readonly defaultMemoryMb: number;
  readonly maxMemoryMb: number;
  readonly defaultPids: number;
  readonly maxPids: number;
  readonly maxCpus: number;
  readonly stopTimeoutSec: number;
  readonly readyTimeoutMs: number;
  readonly maxRequestTimeoutMs: number;
  readonly keepReleases: number;
  readonly maxRestarts: number;
  readonly restartResetMs: number;
  readonly restartBaseDelayMs: number;
  readonly activityMaxEntries: number;
  readonly activityMaxAgeMs: number;
  readonly dockerSocket: string;
  /** Bytes buffered for one client above which its telemetry is dropped and counted. */
  readonly clientBufferBytes: number;
  /** Bytes buffered for one client above which, after the grace period, it is disconnected. */
  readonly clientBufferMaxBytes: number;
  readonly clientBufferGraceMs: number;
  /** Channel calls (`container:request`, `container:send`) waiting for an answer, per connection; 0: no cap. */
  readonly maxRequestsInFlight: number;
  /** Message subscriptions, log follows and stats watches together, per connection. */
  readonly maxSubscriptions: number;
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const tokens = new Map<string, string>();
  for (const entry of e.BERTH_TOKENS) {
    const at = entry.indexOf(":");
    const owner = entry.slice(0, at);
    const token = entry.slice(at + 1);
    if (at <= 0 || token.length < 8 || !/^[A-Za-z0-9_.@-]{1,64}$/.test(owner)) {
      throw new ConfigError(
        "invalid configuration:\n  BERTH_TOKENS: expected owner:token pairs, tokens of 8+ characters",
      );
    }
    tokens.set(owner, token);
  }
  const [first, last] = e.BERTH_UID_RANGE.split("-").map(Number) as [number, number];
  if (first < 1000 || last < first) {
    throw new ConfigError("invalid configuration:\n  BERTH_UID_RANGE: FIRST must be ≥ 1000 and ≤ LAST");
  }
  if (e.BERTH_MAX_CODE_BYTES >= e.BERTH_MAX_PAYLOAD_BYTES) {
    throw new ConfigError(
      "invalid configuration:\n  BERTH_MAX_CODE_BYTES must be below BERTH_MAX_PAYLOAD_BYTES (the transport limit)",
    );
  }
  if (e.BERTH_CLIENT_BUFFER_MAX_BYTES <= e.BERTH_CLIENT_BUFFER_BYTES) {
    throw new ConfigError(
      "invalid configuration:\n  BERTH_CLIENT_BUFFER_MAX_BYTES must be above BERTH_CLIENT_BUFFER_BYTES",
    );
  }
  const dataDir = resolve(e.BERTH_DATA_DIR);
  const dockerHost = e.DOCKER_HOST?.startsWith("unix://") ? e.DOCKER_HOST.slice(7) : undefined;
  return Object.freeze({
    host: e.BERTH_HOST,
    port: e.BERTH_PORT,
    dataDir,
    runDir: resolve(e.BERTH_RUN_DIR ?? `${dataDir}/run`),
    logLevel: e.BERTH_LOG_LEVEL,
    defaultImage: e.BERTH_DEFAULT_IMAGE,
    allowedImages: Object.freeze(
      e.BERTH_ALLOWED_IMAGES.length > 0 ? e.BERTH_ALLOWED_IMAGES : [e.BERTH_DEFAULT_IMAGE],
    ),
    tokens,
    adminToken: e.BERTH_ADMIN_TOKEN,
    allowNetwork: e.BERTH_ALLOW_NETWORK,
    maxPayloadBytes: e.BERTH_MAX_PAYLOAD_BYTES,
    maxCodeBytes: e.BERTH_MAX_CODE_BYTES,
    maxCodeFiles: e.BERTH_MAX_CODE_FILES,
    maxFrameBytes: e.BERTH_MAX_FRAME_BYTES,
    uidRange: Object.freeze({ first, last }),
    defaultMemoryMb: e.BERTH_DEFAULT_MEMORY_MB,
    maxMemoryMb: e.BERTH_MAX_MEMORY_MB,
    defaultPids: e.BERTH_DEFAULT_PIDS,
    maxPids: e.BERTH_MAX_PIDS,
    maxCpus: e.BERTH_MAX_CPUS,
    stopTimeoutSec: e.BERTH_STOP_TIMEOUT_SEC,
    readyTimeoutMs: e.BERTH_READY_TIMEOUT_MS,
    maxRequestTimeoutMs: e.BERTH_MAX_REQUEST_TIMEOUT_MS,
    keepReleases: e.BERTH_KEEP_RELEASES,
    maxRestarts: e.BERTH_MAX_RESTARTS,
    restartResetMs: e.BERTH_RESTART_RESET_MS,
    restartBaseDelayMs: e.BERTH_RESTART_BASE_DELAY_MS,
    activityMaxEntries: e.BERTH_ACTIVITY_MAX_ENTRIES,
    activityMaxAgeMs: e.BERTH_ACTIVITY_MAX_AGE_DAYS * 86_400_000,
    dockerSocket: e.BERTH_DOCKER_SOCKET ?? dockerHost ?? "/var/run/docker.sock",
    clientBufferBytes: e.BERTH_CLIENT_BUFFER_BYTES,
    clientBufferMaxBytes: e.BERTH_CLIENT_BUFFER_MAX_BYTES,
    clientBufferGraceMs: e.BERTH_CLIENT_BUFFER_GRACE_MS,
    maxRequestsInFlight: e.BERTH_MAX_REQUESTS_IN_FLIGHT,
    maxSubscriptions: e.BERTH_MAX_SUBSCRIPTIONS,
  });
}
