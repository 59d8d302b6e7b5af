import type { ContainerManager } from "../containers/container-manager.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";

/** The container lifecycle events: thin adapters from the contract to the ContainerManager. */
export function registerContainerHandlers(
  socket: BerthSocket,
  manager: ContainerManager,
  context: { log: SystemLogger; redactor: OwnerRedactors },
): void {
  registerHandler(socket, "container:create", (spec, actor) => manager.create(actor, spec), context);
  registerHandler(
    socket,
    "container:start",
    (p, actor) => manager.start(actor, p.id, p.waitReady === undefined ? {} : { waitReady: p.waitReady }),
    context,
  );
  registerHandler(
    socket,
    "container:stop",
    (p, actor) => manager.stop(actor, p.id, p.timeoutSec === undefined ? {} : { timeoutSec: p.timeoutSec }),
    context,
  );
  registerHandler(
    socket,
    "container:restart",
    (p, actor) =>
      manager.restart(actor, p.id, {
        ...(p.timeoutSec === undefined ? {} : { timeoutSec: p.timeoutSec }),
        ...(p.waitReady === undefined ? {} : { waitReady: p.waitReady }),
      }),
    context,
  );
  registerHandler(socket, "container:delete", (p, actor) => manager.delete(actor, p.id), context);
  registerHandler(socket, "container:status", (p, actor) => manager.status(actor, p.id), context);
  registerHandler(socket, "container:list", (p, actor) => manager.list(actor, p), context);
}
