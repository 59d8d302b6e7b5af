import { BerthClient } from "./berth-client.ts";
import { ClientCore, type ConnectOptions } from "./client-core.ts";

/**
 * Connects to the berth at `url` with `token` and resolves once berth has
 * accepted the handshake and answered `server:info` (kept as
 * `client.info`). Rejects with a BerthError: berth's refusal
 * (`UNAUTHORIZED`, whose message says how to pass the token;
 * `TOO_MANY_CONNECTIONS`), or CONNECTION_FAILED when nothing answers at the
 * URL or not within `timeoutMs` (default 10 s). A refused handshake is not
 * tried again.
 *
 * @example
 *   const berth = await connect("http://127.0.0.1:7300", { token: process.env.BERTH_TOKEN! });
 *   console.log(`berth ${berth.info.version}`);
 *   await berth.close();
 */
export async function connect(url: string, options: ConnectOptions): Promise<BerthClient> {
  return new BerthClient(await ClientCore.open(url, options));
}
