import { join, resolve, sep } from "node:path";
import { z } from "zod";
import type { QuotaLimits, RateLimits } from "#protocol";
import { checkOwnerName, MAX_TOKEN_LENGTH, MIN_TOKEN_LENGTH } from "../auth/owner-name.ts";
import { type Ipv4Cidr, parseIpv4Cidr } from "../network/ipv4-cidr.ts";
import { DatabaseUrl } from "./database-url.ts";
import { parseRuntimeImages, type RuntimeImages } from "./runtime-images.ts";

/**
 * The one place that reads the environment. Everything else receives this
 * frozen object, so a test builds a server from a plain record and a typo in a
 * variable's value stops berth at start-up with a message naming it.
 */
const MiB = 1024 * 1024;
/** Docker's own floor for a CPU limit (`--cpus`): below it the engine refuses the create. */
export const MIN_CPUS = 0.01;

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

/** Where berth listens unless BERTH_HOST and BERTH_PORT say otherwise (also the API document's defaults). */
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 7300;

const EnvSchema = z.object({
  BERTH_HOST: z.string().default(DEFAULT_HOST),
  BERTH_PORT: int(DEFAULT_PORT, 0, 65535),
  BERTH_DATA_DIR: z.string().default("./data"),
  // Checked in loadConfig, whose message never quotes the value: it holds the password.
  BERTH_DATABASE_URL: z.string().optional(),
  BERTH_RUN_DIR: z.string().optional(),
  BERTH_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Left unset rather than defaulted: parseRuntimeImages must tell "not said" from "said", to refuse a contradiction.
  BERTH_DEFAULT_IMAGE: z.string().min(1).max(255).optional(),
  BERTH_RUNTIME_IMAGES: list,
  BERTH_ALLOWED_IMAGES: list,
  BERTH_TOKENS: list,
  BERTH_ADMIN_TOKEN: z.string().optional(),
  BERTH_TOKENS_FILE: z.string().min(1).optional(),
  // A client app needs a few connections; 32 leaves room for many tabs or workers while bounding what one owner holds.
  BERTH_MAX_CONNECTIONS_PER_OWNER: int(32, 0),
  // A client reconnecting with back-off makes a handful per minute; 120 a minute caps a flood at 2 a second.
  BERTH_HANDSHAKES_PER_MINUTE: int(120, 0),
  BERTH_ALLOW_NETWORK: bool(false),
  BERTH_EGRESS_ALLOW: list,
  BERTH_EGRESS_BLOCK: list,
  BERTH_MAX_PAYLOAD_BYTES: int(16 * MiB, 1024),
  BERTH_MAX_CODE_BYTES: int(8 * MiB, 1),
  BERTH_MAX_CODE_FILES: int(10_000, 1),
  BERTH_MAX_FRAME_BYTES: int(MiB, 1024),
  // What a workload may send over its channel unasked, a second (burst: one second's worth); 0: no limit.
  BERTH_CHANNEL_MESSAGE_RATE: int(5_000, 0),
  BERTH_CHANNEL_MESSAGE_BYTES_RATE: int(8 * MiB, 0),
  BERTH_UID_RANGE: z
    .string()
    .regex(/^\d+-\d+$/, "expected FIRST-LAST, e.g. 200000-299999")
    .default("200000-299999"),
  BERTH_DEFAULT_MEMORY_MB: int(256, 6),
  BERTH_MAX_MEMORY_MB: int(4096, 6),
  BERTH_DEFAULT_PIDS: int(256, 8),
  BERTH_MAX_PIDS: int(4096, 8),
  BERTH_MAX_CPUS: z.coerce.number().min(MIN_CPUS).max(1024).default(2),
  BERTH_DEFAULT_CPUS: z.coerce.number().min(MIN_CPUS).max(1024).default(1),
  BERTH_STOP_TIMEOUT_SEC: int(10, 0, 600),
  BERTH_READY_TIMEOUT_MS: int(30_000, 100, 600_000),
  BERTH_MAX_REQUEST_TIMEOUT_MS: int(30_000, 10, 3_600_000),
  BERTH_KEEP_RELEASES: int(5, 1, 1000),
  BERTH_MAX_RESTARTS: int(5, 0, 1000),
  BERTH_RESTART_RESET_MS: int(60_000, 1000),
  BERTH_RESTART_BASE_DELAY_MS: int(1_000, 10, 600_000),
  // 0 turns the history off: containers are then sampled only while someone watches them.
  BERTH_STATS_HISTORY_INTERVAL_MS: z.coerce
    .number()
    .int()
    .refine((n) => n === 0 || (n >= 250 && n <= 60_000), "expected 0 (off) or 250 to 60000")
    .default(5_000),
  // A workload's output above this many bytes/s (over 10 s, or two history intervals) is held back;
  // 0 turns the limit off, and so does a history turned off (it judges on the history's samples).
  BERTH_OUTPUT_RATE_LIMIT: int(MiB, 0),
  BERTH_ACTIVITY_MAX_ENTRIES: int(10_000, 10),
  BERTH_ACTIVITY_MAX_AGE_DAYS: int(30, 1, 3650),
  BERTH_QUOTA_CONTAINERS: int(20, 1),
  BERTH_QUOTA_RUNNING: int(8, 1),
  BERTH_QUOTA_MEMORY_MB: int(2048, 6),
  BERTH_QUOTA_CPUS: z.coerce.number().min(0.01).default(4),
  BERTH_QUOTA_CODE_MB: int(256, 1),
  BERTH_RATE_CREATE_PER_MIN: int(30),
  BERTH_RATE_CREATE_BURST: int(10, 1),
  BERTH_RATE_LIFECYCLE_PER_MIN: int(120),
  BERTH_RATE_LIFECYCLE_BURST: int(30, 1),
  BERTH_RATE_UPDATE_PER_MIN: int(12),
  BERTH_RATE_UPDATE_BURST: int(5, 1),
  BERTH_ENGINE_CONCURRENCY: int(4, 1, 256),
  BERTH_ENGINE_QUEUE_PER_OWNER: int(16, 0),
  BERTH_ENGINE_QUEUE_TOTAL: int(64, 0),
  // Per connection: telemetry is dropped above the first, the connection cut off above the second after the grace.
  BERTH_CLIENT_BUFFER_BYTES: int(MiB, 64 * 1024),
  BERTH_CLIENT_BUFFER_MAX_BYTES: int(16 * MiB, 128 * 1024),
  BERTH_CLIENT_BUFFER_GRACE_MS: int(10_000, 100, 600_000),
  BERTH_MAX_REQUESTS_IN_FLIGHT: int(1024, 0, 1_000_000),
  BERTH_MAX_SUBSCRIPTIONS: int(128, 1, 100_000),
  BERTH_METRICS: bool(true),
  BERTH_METRICS_PUBLIC: bool(false),
  BERTH_METRICS_PER_CONTAINER: bool(false),
  BERTH_DOCKER_SOCKET: z.string().optional(),
  DOCKER_HOST: z.string().optional(),
  BERTH_SECRET_KEY_FILE: z.string().min(1).optional(),
  XDG_CONFIG_HOME: z.string().optional(),
  HOME: z.string().optional(),
});

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** BERTH_DATABASE_URL: the store in PostgreSQL; undefined: SQLite at `<dataDir>/berth.db`. */
  readonly database: DatabaseUrl | undefined;
  readonly runDir: string;
  readonly logLevel: string;
  /** The image of a spec that names neither `runtime` nor `image`: the node runtime's. */
  readonly defaultImage: string;
  /** Each offered runtime's image (BERTH_RUNTIME_IMAGES, with BERTH_DEFAULT_IMAGE as node's); a runtime turned off has none. */
  readonly runtimeImages: RuntimeImages;
  /** BERTH_ALLOWED_IMAGES and every runtime's image. */
  readonly allowedImages: readonly string[];
  /** owner → token */
  readonly tokens: ReadonlyMap<string, string>;
  readonly adminToken: string | undefined;
  /** BERTH_TOKENS_FILE, absolute: owner tokens re-read on SIGHUP and when it changes. */
  readonly tokensFile: string | undefined;
  /** Connections per owner at once (0: no cap). */
  readonly maxConnectionsPerOwner: number;
  /** Handshakes per remote address per minute, before authentication (0: no limit). */
  readonly handshakesPerMinute: number;
  readonly allowNetwork: boolean;
  /** IPv4 ranges `network: 'outbound'` may reach despite the blocks (host, private, link-local). */
  readonly egressAllow: readonly Ipv4Cidr[];
  /** IPv4 ranges blocked for `network: 'outbound'` on top of the defaults. */
  readonly egressBlock: readonly Ipv4Cidr[];
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
  /** The CPU limit of a container whose spec names none: no container runs without one. */
  readonly defaultCpus: number;
  readonly stopTimeoutSec: number;
  readonly readyTimeoutMs: number;
  readonly maxRequestTimeoutMs: number;
  readonly keepReleases: number;
  readonly maxRestarts: number;
  readonly restartResetMs: number;
  readonly restartBaseDelayMs: number;
  /** One kept sample per running container every this many ms, 10 minutes of them (0: no history). */
  readonly statsHistoryIntervalMs: number;
  /**
   * Bytes/s a workload may write to its output, averaged over 10 s; one over it is held to 0.05 CPU
   * for 30 s (the engine's log driver has no limit, and output costs the engine's CPU). 0: no limit.
   */
  readonly outputRateLimit: number;
  /**
   * Frames and bytes a second a workload may send over its channel unasked (messages, pings, bad
   * frames — never answers to berth's requests), a burst of one second's worth; over it, berth stops
   * reading its socket until the budget has refilled. 0: no limit.
   */
  readonly channelMessageRate: number;
  readonly channelMessageBytesRate: number;
  readonly activityMaxEntries: number;
  readonly activityMaxAgeMs: number;
  readonly dockerSocket: string;
  /** Per-owner quotas unless the tokens file overrides them. */
  readonly quota: Readonly<QuotaLimits>;
  /** Per-owner token buckets; `perMinute: 0` turns one off. */
  readonly rateLimits: Readonly<RateLimits>;
  readonly engineQueue: {
    readonly concurrency: number;
    readonly maxWaitingPerOwner: number;
    readonly maxWaiting: number;
  };
  /** The key file that seals secret values in the store; outside the data directory. */
  readonly secretKeyFile: string;
  /** Bytes buffered for one client above which its telemetry is dropped and counted. */
  readonly clientBufferBytes: number;
  /** Bytes buffered for one client above which, after the grace period, it is disconnected. */
  readonly clientBufferMaxBytes: number;
  readonly clientBufferGraceMs: number;
  /** Channel calls (`container:request`, `container:send`) waiting for an answer, per connection; 0: no cap. */
  readonly maxRequestsInFlight: number;
  /** Message subscriptions, log follows and stats watches together, per connection. */
  readonly maxSubscriptions: number;
  /** Prometheus metrics at `GET /metrics` (docs/metrics.md). */
  readonly metrics: {
    /** false: no metric is kept at all and /metrics answers 404. */
    readonly enabled: boolean;
    /** true: /metrics answers without the admin token. */
    readonly public: boolean;
    /** true: the high-volume channel series carry a `container` label (berth's container id). */
    readonly perContainer: boolean;
  };
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
    if (at <= 0 || token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH) {
      throw new ConfigError(
        `invalid configuration:\n  BERTH_TOKENS: expected owner:token pairs, tokens of ${MIN_TOKEN_LENGTH}–${MAX_TOKEN_LENGTH} characters`,
      );
    }
    const badName = checkOwnerName(owner);
    if (badName) throw new ConfigError(`invalid configuration:\n  BERTH_TOKENS: ${badName}`);
    if (tokens.has(owner))
      throw new ConfigError(`invalid configuration:\n  BERTH_TOKENS: owner '${owner}' is named twice`);
    if ([...tokens.values()].includes(token) || token === e.BERTH_ADMIN_TOKEN) {
      throw new ConfigError(
        `invalid configuration:\n  BERTH_TOKENS: owner '${owner}' has a token already given to another owner or the admin`,
      );
    }
    tokens.set(owner, token);
  }
  if (tokens.size > 0 && e.BERTH_TOKENS_FILE !== undefined) {
    // One place for owner tokens: a token removed from the file must not live on in the environment.
    throw new ConfigError(
      "invalid configuration:\n  BERTH_TOKENS and BERTH_TOKENS_FILE cannot be used together; put every owner in the file",
    );
  }
  // The output limit is judged on the history's samples: without them it would never apply. Asked for
  // by name, that is refused; left at its default, it goes off with the history (as documented).
  const historyOff = e.BERTH_STATS_HISTORY_INTERVAL_MS === 0;
  if (historyOff && env.BERTH_OUTPUT_RATE_LIMIT !== undefined && e.BERTH_OUTPUT_RATE_LIMIT > 0) {
    throw new ConfigError(
      "invalid configuration:\n  BERTH_OUTPUT_RATE_LIMIT: the output limit is judged on the stats history's samples, and BERTH_STATS_HISTORY_INTERVAL_MS is 0 (off): turn the history on, or leave the limit unset (or 0)",
    );
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
  const cidrs = (name: string, values: string[]): Ipv4Cidr[] =>
    values.map((v) => {
      const cidr = parseIpv4Cidr(v);
      if (!cidr)
        throw new ConfigError(`invalid configuration:\n  ${name}: '${v}' is not an IPv4 address or CIDR`);
      return cidr;
    });
  const egressAllow = cidrs("BERTH_EGRESS_ALLOW", e.BERTH_EGRESS_ALLOW);
  const egressBlock = cidrs("BERTH_EGRESS_BLOCK", e.BERTH_EGRESS_BLOCK);
  const runtimes = parseRuntimeImages(e.BERTH_RUNTIME_IMAGES, e.BERTH_DEFAULT_IMAGE);
  if (!runtimes.ok) throw new ConfigError(`invalid configuration:\n  ${runtimes.problem}`);
  const runtimeImages = runtimes.images;
  if (e.BERTH_DEFAULT_CPUS > e.BERTH_MAX_CPUS) {
    throw new ConfigError("invalid configuration:\n  BERTH_DEFAULT_CPUS must be at most BERTH_MAX_CPUS");
  }
  if (e.BERTH_CLIENT_BUFFER_MAX_BYTES <= e.BERTH_CLIENT_BUFFER_BYTES) {
    throw new ConfigError(
      "invalid configuration:\n  BERTH_CLIENT_BUFFER_MAX_BYTES must be above BERTH_CLIENT_BUFFER_BYTES",
    );
  }
  const dataDir = resolve(e.BERTH_DATA_DIR);
  let database: DatabaseUrl | undefined;
  if (e.BERTH_DATABASE_URL !== undefined && e.BERTH_DATABASE_URL !== "") {
    const parsed = DatabaseUrl.parse(e.BERTH_DATABASE_URL);
    if (!(parsed instanceof DatabaseUrl))
      throw new ConfigError(`invalid configuration:\n  BERTH_DATABASE_URL: ${parsed.problem}`);
    database = parsed;
  }
  const dockerHost = e.DOCKER_HOST?.startsWith("unix://") ? e.DOCKER_HOST.slice(7) : undefined;
  const secretKeyFile = resolve(e.BERTH_SECRET_KEY_FILE ?? defaultSecretKeyFile(e.XDG_CONFIG_HOME, e.HOME));
  if (secretKeyFile.startsWith(dataDir + sep)) {
    throw new ConfigError(
      "invalid configuration:\n  BERTH_SECRET_KEY_FILE must be outside BERTH_DATA_DIR (a copy of the data directory must not carry the key to its secrets)",
    );
  }
  return Object.freeze({
    host: e.BERTH_HOST,
    port: e.BERTH_PORT,
    dataDir,
    database,
    runDir: resolve(e.BERTH_RUN_DIR ?? `${dataDir}/run`),
    logLevel: e.BERTH_LOG_LEVEL,
    defaultImage: runtimeImages.node,
    runtimeImages,
    // Every runtime's image is allowed: a spec naming a runtime must never be refused for an image it did not name.
    allowedImages: Object.freeze([...new Set([...Object.values(runtimeImages), ...e.BERTH_ALLOWED_IMAGES])]),
    tokens,
    adminToken: e.BERTH_ADMIN_TOKEN,
    tokensFile: e.BERTH_TOKENS_FILE === undefined ? undefined : resolve(e.BERTH_TOKENS_FILE),
    maxConnectionsPerOwner: e.BERTH_MAX_CONNECTIONS_PER_OWNER,
    handshakesPerMinute: e.BERTH_HANDSHAKES_PER_MINUTE,
    allowNetwork: e.BERTH_ALLOW_NETWORK,
    egressAllow: Object.freeze(egressAllow),
    egressBlock: Object.freeze(egressBlock),
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
    defaultCpus: e.BERTH_DEFAULT_CPUS,
    stopTimeoutSec: e.BERTH_STOP_TIMEOUT_SEC,
    readyTimeoutMs: e.BERTH_READY_TIMEOUT_MS,
    maxRequestTimeoutMs: e.BERTH_MAX_REQUEST_TIMEOUT_MS,
    keepReleases: e.BERTH_KEEP_RELEASES,
    maxRestarts: e.BERTH_MAX_RESTARTS,
    restartResetMs: e.BERTH_RESTART_RESET_MS,
    restartBaseDelayMs: e.BERTH_RESTART_BASE_DELAY_MS,
    statsHistoryIntervalMs: e.BERTH_STATS_HISTORY_INTERVAL_MS,
    outputRateLimit: historyOff ? 0 : e.BERTH_OUTPUT_RATE_LIMIT,
    channelMessageRate: e.BERTH_CHANNEL_MESSAGE_RATE,
    channelMessageBytesRate: e.BERTH_CHANNEL_MESSAGE_BYTES_RATE,
    activityMaxEntries: e.BERTH_ACTIVITY_MAX_ENTRIES,
    activityMaxAgeMs: e.BERTH_ACTIVITY_MAX_AGE_DAYS * 86_400_000,
    dockerSocket: e.BERTH_DOCKER_SOCKET ?? dockerHost ?? "/var/run/docker.sock",
    quota: Object.freeze({
      containers: e.BERTH_QUOTA_CONTAINERS,
      running: e.BERTH_QUOTA_RUNNING,
      memoryMb: e.BERTH_QUOTA_MEMORY_MB,
      cpus: e.BERTH_QUOTA_CPUS,
      codeMb: e.BERTH_QUOTA_CODE_MB,
    }),
    rateLimits: Object.freeze({
      create: { perMinute: e.BERTH_RATE_CREATE_PER_MIN, burst: e.BERTH_RATE_CREATE_BURST },
      lifecycle: { perMinute: e.BERTH_RATE_LIFECYCLE_PER_MIN, burst: e.BERTH_RATE_LIFECYCLE_BURST },
      update: { perMinute: e.BERTH_RATE_UPDATE_PER_MIN, burst: e.BERTH_RATE_UPDATE_BURST },
    }),
    engineQueue: Object.freeze({
      concurrency: e.BERTH_ENGINE_CONCURRENCY,
      maxWaitingPerOwner: e.BERTH_ENGINE_QUEUE_PER_OWNER,
      maxWaiting: e.BERTH_ENGINE_QUEUE_TOTAL,
    }),
    secretKeyFile,
    clientBufferBytes: e.BERTH_CLIENT_BUFFER_BYTES,
    clientBufferMaxBytes: e.BERTH_CLIENT_BUFFER_MAX_BYTES,
    clientBufferGraceMs: e.BERTH_CLIENT_BUFFER_GRACE_MS,
    maxRequestsInFlight: e.BERTH_MAX_REQUESTS_IN_FLIGHT,
    maxSubscriptions: e.BERTH_MAX_SUBSCRIPTIONS,
    metrics: Object.freeze({
      enabled: e.BERTH_METRICS,
      public: e.BERTH_METRICS_PUBLIC,
      perContainer: e.BERTH_METRICS_PER_CONTAINER,
    }),
  });
}

/**
 * Where the key for secrets at rest lives unless BERTH_SECRET_KEY_FILE says:
 * beside other system configuration when berth runs as root, else in the
 * user's configuration directory — in either case outside the data
 * directory, so that backing up or copying the data does not copy the key.
 */
function defaultSecretKeyFile(xdgConfigHome: string | undefined, home: string | undefined): string {
  if (process.getuid?.() === 0) return "/etc/berth/secret.key";
  const base = xdgConfigHome || (home ? join(home, ".config") : undefined);
  if (!base) {
    throw new ConfigError(
      "invalid configuration:\n  BERTH_SECRET_KEY_FILE: not set, and neither XDG_CONFIG_HOME nor HOME says where to keep it",
    );
  }
  return join(base, "berth", "secret.key");
}
