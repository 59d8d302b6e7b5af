import { CHANNEL_PROTOCOL_VERSION, type QuotaLimits, type RuntimeInfo, type ServerInfo } from "#protocol";
import type { Usage } from "../admission/container-usage.ts";
import type { Config } from "../config/config.ts";
import type { Actor } from "../containers/actor.ts";

export interface ServerInfoSource {
  version: string;
  config: Pick<
    Config,
    | "maxPayloadBytes"
    | "maxCodeBytes"
    | "maxCodeFiles"
    | "maxFrameBytes"
    | "maxRequestTimeoutMs"
    | "readyTimeoutMs"
    | "stopTimeoutSec"
    | "allowedImages"
    | "defaultImage"
    | "rateLimits"
  >;
  /** What `owner` uses now, reservations included. */
  usage(owner: string): Promise<Usage>;
  /** The quotas that hold for `owner` now (its overrides over the defaults). */
  quotaLimits(owner: string): QuotaLimits;
  /** The runtimes and their images as the engine has them now (containers/runtime-offer.ts); never rejects. */
  runtimes(): Promise<RuntimeInfo[]>;
}

/** The answer to `server:info` for `actor`: the server's limits, and the caller's own quotas only. */
export async function serverInfo(source: ServerInfoSource, actor: Actor): Promise<ServerInfo> {
  const { config } = source;
  let quota: ServerInfo["quota"] = null;
  if (!actor.admin) {
    const usage = await source.usage(actor.owner);
    quota = { limits: { ...source.quotaLimits(actor.owner) }, usage: { ...usage } };
  }
  return {
    version: source.version,
    channelProtocol: CHANNEL_PROTOCOL_VERSION,
    limits: {
      maxPayloadBytes: config.maxPayloadBytes,
      maxCodeBytes: config.maxCodeBytes,
      maxCodeFiles: config.maxCodeFiles,
      maxFrameBytes: config.maxFrameBytes,
      maxRequestTimeoutMs: config.maxRequestTimeoutMs,
    },
    timeouts: { readyMs: config.readyTimeoutMs, stopSec: config.stopTimeoutSec },
    images: { allowed: [...config.allowedImages], default: config.defaultImage },
    runtimes: await source.runtimes(),
    quota,
    rates: actor.admin ? null : structuredClone(config.rateLimits),
  };
}
