import type { RateKind } from "#protocol";
import type { RateLimiter } from "../admission/rate-limiter.ts";
import type { Actor } from "../containers/actor.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { progressTo } from "./progress-reporter.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";

/**
 * The container lifecycle events: thin adapters from the contract to the
 * ContainerManager. Creates and lifecycle operations first take a token from
 * the owner's bucket (`rates`); reads (status, list) are not limited.
 */
export function registerContainerHandlers(
  socket: BerthSocket,
  manager: ContainerManager,
  context: { log: SystemLogger; redactor: OwnerRedactors; rates?: RateLimiter | undefined },
): void {
  const take = (actor: Actor, kind: RateKind) => context.rates?.take(actor, kind);
  registerHandler(
    socket,
    "container:create",
    (spec, actor) => {
      take(actor, "create");
      return manager.create(actor, spec, { onStep: progressTo(socket, spec.progress) });
    },
    context,
  );
  registerHandler(
    socket,
    "container:start",
    (p, actor) => {
      take(actor, "lifecycle");
      return manager.start(actor, p.id, p.waitReady === undefined ? {} : { waitReady: p.waitReady });
    },
    context,
  );
  registerHandler(
    socket,
    "container:stop",
    (p, actor) => {
      take(actor, "lifecycle");
      return manager.stop(actor, p.id, p.timeoutSec === undefined ? {} : { timeoutSec: p.timeoutSec });
    },
    context,
  );
  registerHandler(
    socket,
    "container:restart",
    (p, actor) => {
      take(actor, "lifecycle");
      return manager.restart(actor, p.id, {
        ...(p.timeoutSec === undefined ? {} : { timeoutSec: p.timeoutSec }),
        ...(p.waitReady === undefined ? {} : { waitReady: p.waitReady }),
        onStep: progressTo(socket, p.progress),
      });
    },
    context,
  );
  registerHandler(
    socket,
    "container:delete",
    (p, actor) => {
      take(actor, "lifecycle");
      return manager.delete(actor, p.id);
    },
    context,
  );
  registerHandler(socket, "container:status", (p, actor) => manager.status(actor, p.id), context);
  registerHandler(socket, "container:list", (p, actor) => manager.list(actor, p), context);
}
