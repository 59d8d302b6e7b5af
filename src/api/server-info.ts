import type { Usage } from "../admission/container-usage.ts";
import type { QuotaLimits } from "../admission/quota-limits.ts";
import type { RateLimits } from "../admission/rate-limiter.ts";
import { PROTOCOL_VERSION } from "../channel/protocol.ts";
import type { Config } from "../config/config.ts";
import type { Actor } from "../containers/actor.ts";

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
  images: { allowed: string[]; default: string };
  /**
   * The caller's own quotas and what it holds now (operations under way
   * included); `null` for the admin, who has none. Never another owner's.
   * Code is limited in MiB (`limits.codeMb`) and counted exactly, in bytes
   * (`usage.codeBytes`), so that a client can tell what still fits.
   */
  quota: { limits: QuotaLimits; usage: Usage } | null;
  /** Creates, lifecycle operations and updates per minute for each owner (0: not limited); `null` for the admin. */
  rates: RateLimits | null;
}

export interface ServerInfoSource {
  version: string;
  config: Pick<
    Config,
    | "maxPayloadBytes"
    | "maxCodeBytes"
    | "maxCodeFiles"
    | "maxFrameBytes"
    | "maxRequestTimeoutMs"
    | "allowedImages"
    | "defaultImage"
    | "rateLimits"
  >;
  /** What `owner` uses now, reservations included. */
  usage(owner: string): Usage;
  /** The quotas that hold for `owner` now (its overrides over the defaults). */
  quotaLimits(owner: string): QuotaLimits;
}

/** The answer to `server:info` for `actor`: the server's limits, and the caller's own quotas only. */
export function serverInfo(source: ServerInfoSource, actor: Actor): ServerInfo {
  const { config } = source;
  let quota: ServerInfo["quota"] = null;
  if (!actor.admin) {
    quota = { limits: { ...source.quotaLimits(actor.owner) }, usage: { ...source.usage(actor.owner) } };
  }
  return {
    version: source.version,
    channelProtocol: PROTOCOL_VERSION,
    limits: {
      maxPayloadBytes: config.maxPayloadBytes,
      maxCodeBytes: config.maxCodeBytes,
      maxCodeFiles: config.maxCodeFiles,
      maxFrameBytes: config.maxFrameBytes,
      maxRequestTimeoutMs: config.maxRequestTimeoutMs,
    },
    images: { allowed: [...config.allowedImages], default: config.defaultImage },
    quota,
    rates: actor.admin ? null : structuredClone(config.rateLimits),
  };
}
