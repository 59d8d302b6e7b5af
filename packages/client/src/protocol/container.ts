/**
 * A container as berth's clients see it, and what they send to make one.
 * Plain types and constants only: this folder is the wire contract that the
 * server and the client SDK both import, so it imports nothing.
 */

/**
 * A container's life as berth tells it. `stopped` is stopped on request,
 * `exited` stopped by itself; `missing` means its engine container vanished
 * behind berth's back; `failed` means berth could not bring it to a known state.
 */
export const CONTAINER_STATES = [
  "created",
  "starting",
  "running",
  "stopping",
  "stopped",
  "exited",
  "restarting",
  "updating",
  "paused",
  "removing",
  "missing",
  "failed",
] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];

export const HEALTH_STATES = ["starting", "healthy", "unhealthy", "none"] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/**
 * The language runtimes berth has images for. A runtime picks the image
 * (the server's BERTH_RUNTIME_IMAGES), its default command and the entry
 * file that create and update check the code for (`index.js` / `main.py`).
 */
export const RUNTIMES = ["node", "python"] as const;
export type Runtime = (typeof RUNTIMES)[number];

export type RestartPolicy = "no" | "on-failure" | "always";
export type NetworkMode = "none" | "outbound";

/** A workload's channel as clients see it (times in epoch ms). */
export interface ChannelInfo {
  connected: boolean;
  connectedAt?: number;
  lastSeenAt?: number;
  rttMs?: number;
  protocol?: number;
}

/** A container as clients see it. Secret values and host details never appear here. */
export interface ContainerInfo {
  id: string;
  name: string;
  owner: string;
  image: string;
  /**
   * The runtime the container runs: its image's `berth.runtime` label, or the
   * runtime the server configured the image for. Absent for a custom image
   * that says nothing of its runtime (and for containers made before runtimes).
   */
  runtime?: Runtime;
  labels: Record<string, string>;
  state: ContainerState;
  health: HealthState;
  createdAt: number;
  /**
   * When the current run of the workload began (epoch ms, the engine's
   * `State.StartedAt` or berth's record of the start it made); `null` while
   * the workload does not run (any state but `running`, `paused`, `stopping`
   * and `updating`). An uptime is `now - startedAt`.
   */
  startedAt: number | null;
  /**
   * How many times the workload was started again since the container was
   * created: each start by its restart policy after an exit, each
   * `container:restart`, and each start made outside berth (seen on the
   * engine) of a container that had stopped. A `container:start` asked for by
   * a client, a code update's switch and a rollback are not restarts. berth
   * keeps the count in its database (the engine's own `RestartCount` stays 0:
   * its restart policy is off, berth's supervisor restarts instead), so it
   * survives berth's own restarts and crashes.
   */
  restartCount: number;
  exitCode?: number;
  release?: number;
  restartPolicy: RestartPolicy;
  network: NetworkMode;
  channel?: ChannelInfo;
}

/** The longest env value or command argument a spec shows (UTF-16 code units, the cut's marker included). */
export const MAX_SPEC_VALUE_LENGTH = 1_024;

/**
 * The most a spec's command and env may take in one answer (their JSON, in
 * UTF-16 code units): the entries beyond it are left out and counted
 * (`SpecCuts.omittedEnv`, `omittedArgs`).
 */
export const MAX_SPEC_INFO_LENGTH = 65_536;

/** What berth cut from a spec it shows (`ContainerSpecInfo.truncated`); present only when it cut something. */
export interface SpecCuts {
  /**
   * The env keys whose value is shown cut to its first MAX_SPEC_VALUE_LENGTH
   * characters; each such value ends with ` …[truncated]` (and a secret of the
   * owner's that the cut may have split is hidden whole).
   */
  env: string[];
  /** The positions in `command` of the arguments shown cut, likewise. */
  args: number[];
  /** How many env entries (key and value) were left out, after the shown ones, as the answer reached MAX_SPEC_INFO_LENGTH. */
  omittedEnv: number;
  /** How many command arguments were left out at its end, likewise. */
  omittedArgs: number;
  /**
   * The health check's request or expected answer was longer than
   * MAX_SPEC_VALUE_LENGTH as JSON: each such one is shown as the cut text of its JSON.
   */
  healthCheck: boolean;
}

/**
 * A container's spec as berth shows it (`ContainerDetail.spec`). Secret values
 * never leave berth: every `secretEnv` value, and every `env` value under a
 * secret-looking key (`DB_PASSWORD`, `API_TOKEN`, … — berth treats those as
 * secrets), is left out, its key listed in `secretEnvKeys` instead. The other
 * env values and the command are shown as the owner's other text is: with the
 * owner's secrets (and anything that looks like one) replaced by `[REDACTED]`.
 * The spec is bounded: each value and argument to MAX_SPEC_VALUE_LENGTH, the
 * command and env together to MAX_SPEC_INFO_LENGTH; `truncated` says what was cut.
 *
 * @example
 *   const web = await berth.containers.get("web");
 *   const spec = await web.spec();
 *   spec.secretEnvKeys; // ["API_KEY", "DB_PASSWORD"] — never their values
 *   spec.resources;     // { memoryMb: 256, cpus: 1, pids: 256 }: the server's defaults filled in
 *   spec.truncated?.env; // ["CA_BUNDLE"]: shown cut to its first 1,024 characters
 */
export interface ContainerSpecInfo {
  /** The command the spec names; absent when the image's own runs. */
  command?: string[];
  /** The env values that are not secret (redacted as the owner's text is). */
  env: Record<string, string>;
  /** The keys of `secretEnv` and of `env` entries under secret-looking keys: sorted, each once. */
  secretEnvKeys: string[];
  /** The limits the container runs under: its spec's, and the server's defaults where the spec named none. */
  resources: Required<Resources>;
  healthCheck?: HealthCheck;
  /** What was cut or left out to keep the answer small; absent when nothing was. */
  truncated?: SpecCuts;
}

/**
 * The answer to `container:status` with `spec: true` (so `Container.spec()`
 * and `status({ spec: true })`): the container with what it was created
 * with, secret values left out. Only that answer carries the spec; a plain
 * status, lists, lifecycle answers and pushes do not, as a spec may hold 256
 * env values of 32 KiB and does not change after the create.
 */
export interface ContainerDetail extends ContainerInfo {
  spec: ContainerSpecInfo;
}

/** The steps of a create, in order; `start` and `ready` only when it starts the workload (and waits for it). */
export const CREATE_STEPS = ["validate", "write", "create", "start", "ready"] as const;
export type CreateStep = (typeof CREATE_STEPS)[number];

/**
 * The answer to a create: the container, and how long each step took in
 * milliseconds (0 for a step that did not run). `validate` covers the spec,
 * the code, the quotas and the wait for a turn at the engine.
 */
export type CreatedContainer = ContainerInfo & { timings: Record<CreateStep | "total", number> };

/** One page of `container:list`; pass `nextCursor` back as `cursor` for the next. */
export interface ListResult {
  items: ContainerInfo[];
  nextCursor?: string;
}

/** JSON as berth carries it between a client and a workload: plain JSON, nested at most 64 deep. */
export type JsonValue = unknown;

/**
 * A workload's code: `files` (path → contents: text as a string, anything
 * else as binary) or one tar or tar.gz `archive` — exactly one of the two.
 */
export interface CodeUpload {
  files?: Record<string, string | Uint8Array>;
  archive?: Uint8Array;
}

/** A request berth sends the workload every `intervalMs`; the container is healthy while it answers (with `expect`, when given). */
export interface HealthCheck {
  request: JsonValue;
  expect?: JsonValue;
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
}

/** Per-container limits; berth's defaults (and the owner's quotas) apply where a field is left out. */
export interface Resources {
  memoryMb?: number;
  cpus?: number;
  pids?: number;
}

/** `progress: { opId }` on a long operation: `container:progress` events for it come to the calling connection, carrying `opId`. */
export interface ProgressRequest {
  opId: string;
}

/**
 * What `container:create` takes. Unknown fields are refused at every level.
 * `env.BERTH_*`, `secretEnv.BERTH_*` and labels under `berth.`, `com.docker.`,
 * `io.docker.`, `org.dockerproject.` and `org.opencontainers.` are reserved.
 * `secretEnv` values are stored sealed, passed to the workload and hidden
 * from every log and answer.
 */
export interface ContainerSpec {
  name: string;
  /**
   * The language runtime (default `node` when `image` is left out too): picks
   * the server's image for it, whose default command runs `index.js` (node) or
   * `main.py` (python) from the code. With `image` as well, the image must be
   * that runtime's (its `berth.runtime` label, or the server's image for it).
   */
  runtime?: Runtime;
  /** An allowed image of the server's (`server:info` `images.allowed`), for a custom image. */
  image?: string;
  command?: string[];
  env?: Record<string, string>;
  secretEnv?: Record<string, string>;
  labels?: Record<string, string>;
  code?: CodeUpload;
  resources?: Resources;
  network?: NetworkMode;
  restartPolicy?: RestartPolicy;
  healthCheck?: HealthCheck;
  /** Start it once created (default true). */
  start?: boolean;
  /** With `start`, answer once the workload has said hello on its channel (default true). */
  waitReady?: boolean;
  progress?: ProgressRequest;
}
