import type { Config } from "../config/config.ts";
import { RedisFanOut } from "../fan-out/redis-fan-out.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { DisposalStack } from "./disposal-stack.ts";

/**
 * With BERTH_REDIS_URL, the fan-out across API servers, connected (or given a
 * few seconds and left trying: berth serves its own clients meanwhile) before
 * the Socket.IO server that uses it is built; closed after that server, so
 * that the sessions it keeps as it closes reach Redis. Without it, nothing.
 */
export async function openFanOut(
  config: Config,
  log: SystemLogger,
  stack: DisposalStack,
): Promise<RedisFanOut | undefined> {
  if (!config.redis) return undefined;
  const fanOut = new RedisFanOut(config.redis, log);
  stack.defer("fan-out across API servers", () => fanOut.close());
  await fanOut.open();
  return fanOut;
}
