import { z } from "zod";
import { ConfigError } from "../config-error.ts";
import type { EnvOf } from "../env-values.ts";
import { RedisUrl } from "../redis-url.ts";

/** Fan-out across API servers: the Redis they share, through which pushes reach every server's clients. */
export const FanOutEnv = {
  // Checked in fanOutConfig, whose message never quotes the value: it holds the password.
  BERTH_REDIS_URL: z.string().optional(),
};

export interface FanOutConfig {
  /** BERTH_REDIS_URL: pushes fan out to every API server sharing this Redis; undefined: this server's clients only. */
  readonly redis: RedisUrl | undefined;
}

export function fanOutConfig(e: EnvOf<typeof FanOutEnv>): FanOutConfig {
  if (e.BERTH_REDIS_URL === undefined || e.BERTH_REDIS_URL === "") return { redis: undefined };
  const parsed = RedisUrl.parse(e.BERTH_REDIS_URL);
  if (!(parsed instanceof RedisUrl)) throw ConfigError.invalid(`BERTH_REDIS_URL: ${parsed.problem}`);
  return { redis: parsed };
}
