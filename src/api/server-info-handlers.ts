import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";
import { type ServerInfoSource, serverInfo } from "./server-info.ts";

/** `server:info`: the server's version and limits, and the caller's own quotas (any authenticated connection). */
export function registerServerInfoHandlers(
  socket: BerthSocket,
  source: ServerInfoSource,
  context: { log: SystemLogger; redactor: OwnerRedactors },
): void {
  registerHandler(socket, "server:info", (_p, actor) => serverInfo(source, actor), context);
}
