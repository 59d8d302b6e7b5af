import type { Runtime } from "./container.ts";

/**
 * What one owner may hold at once. `containers` counts every container the
 * owner keeps, whatever its state; `running`, `memoryMb` and `cpus` count the
 * containers that run (or are on their way up or down); `codeMb` counts every
 * release kept on disk for the owner's containers.
 */
export interface QuotaLimits {
  containers: number;
  running: number;
  memoryMb: number;
  cpus: number;
  codeMb: number;
}

/** What an owner holds now, operations under way included; code counted exactly, in bytes. */
export interface QuotaUsage {
  containers: number;
  running: number;
  memoryMb: number;
  cpus: number;
  codeBytes: number;
}

/** A token bucket: `perMinute` refill (0: not limited), holding at most `burst`. */
export interface RateSpec {
  perMinute: number;
  burst: number;
}

/** The operations limited separately: a burst of starts must not use up the creates, nor the reverse. */
export type RateKind = "create" | "lifecycle" | "update";
export type RateLimits = Record<RateKind, RateSpec>;

/**
 * One runtime as the server offers it (`server:info` `runtimes`): the image
 * a spec with `runtime: name` gets, the file of the code its default command
 * runs, and that command — each from the image's labels when the engine has
 * it (`null` when neither its labels nor its command say).
 */
export interface RuntimeInfo {
  name: Runtime;
  image: string;
  /** The entry file, relative to the code's root, that create and update check the code for: `index.js`, `main.py`. */
  entry: string | null;
  /** The command the image runs when a spec names none, e.g. `["python3", "main.py"]`. */
  command: string[] | null;
  /**
   * Whether the container engine has the image now: a create with this
   * runtime answers IMAGE_NOT_FOUND while it is `false`. `null` when the
   * engine could not be asked.
   */
  available: boolean | null;
}

/** What a client must know of this berth before it sends anything large: the answer to `server:info`. */
export interface ServerInfo {
  /** berth's version (its package.json). */
  version: string;
  /** The version of the channel protocol that workloads speak to berth. */
  channelProtocol: number;
  limits: {
    /** The largest Socket.IO message berth accepts; a larger one closes the connection. */
    maxPayloadBytes: number;
    /** Code of one release, files or unpacked archive, in bytes. */
    maxCodeBytes: number;
    maxCodeFiles: number;
    /** The largest frame a workload and berth send each other on the channel. */
    maxFrameBytes: number;
    /** The longest `timeoutMs` a `container:request` may wait for. */
    maxRequestTimeoutMs: number;
  };
  /**
   * berth's own waits where a request leaves them out: for a workload's hello
   * after a start (`readyMs`, BERTH_READY_TIMEOUT_MS) and for a container to
   * stop (`stopSec`, BERTH_STOP_TIMEOUT_SEC) — so that a client can tell how
   * long a long operation may legitimately take.
   */
  timeouts: { readyMs: number; stopSec: number };
  /** The images a spec may name (every runtime's among them), and the one a spec naming neither `runtime` nor `image` gets. */
  images: { allowed: string[]; default: string };
  /**
   * The runtimes a spec may name, in the order of RUNTIMES. A spec naming
   * neither `runtime` nor `image` gets `node` (its image is `images.default`).
   */
  runtimes: RuntimeInfo[];
  /**
   * The caller's own quotas and what it holds now (operations under way
   * included); `null` for the admin, who has none. Never another owner's.
   * Code is limited in MiB (`limits.codeMb`) and counted exactly, in bytes
   * (`usage.codeBytes`), so that a client can tell what still fits.
   */
  quota: { limits: QuotaLimits; usage: QuotaUsage } | null;
  /** Creates, lifecycle operations and updates per minute for each owner (0: not limited); `null` for the admin. */
  rates: RateLimits | null;
}
