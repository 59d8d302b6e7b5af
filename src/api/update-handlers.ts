import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { CodeUpdater } from "../updates/code-updater.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";

/** Code updates: `container:update`, `container:rollback`, `container:releases`. */
export function registerUpdateHandlers(
  socket: BerthSocket,
  updater: CodeUpdater,
  context: { log: SystemLogger; redactor: OwnerRedactors },
): void {
  registerHandler(
    socket,
    "container:update",
    (p, actor) =>
      updater.update(actor, p.id, {
        code: p.code,
        readyTimeoutMs: p.readyTimeoutMs,
        healthCheck: p.healthCheck,
      }),
    context,
  );
  registerHandler(
    socket,
    "container:rollback",
    (p, actor) => updater.rollback(actor, p.id, p.release),
    context,
  );
  registerHandler(
    socket,
    "container:releases",
    (p, actor) => ({ items: updater.releases(actor, p.id) }),
    context,
  );
}
