import type { RateKind } from "#protocol";
import type { RateGate } from "../admission/rate-limiter.ts";
import type { Actor } from "../containers/actor.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import { progressTo } from "./progress-reporter.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";

/**
 * The container lifecycle events: thin adapters from the contract to the
 * ContainerManager. Creates and lifecycle operations first take a token from
 * the owner's bucket (`rates`); reads (status, list) are not limited, but a
 * status that asks for the spec — up to MAX_SPEC_INFO_LENGTH of it — is a
 * large read and runs under the connection's cap on those (`limits.reads`),
 * as `container:logs` does. A plain status never builds or sends a spec.
 */
export function registerContainerHandlers(
  socket: BerthSocket,
  manager: ContainerManager,
  context: { log: SystemLogger; redactor: OwnerRedactors; rates?: RateGate | undefined },
  limits: Pick<ConnectionLimits, "reads">,
): void {
  const take = (actor: Actor, kind: RateKind) => context.rates?.take(actor, kind);
  registerHandler(
    socket,
    "container:create",
    async (spec, actor) => {
      await take(actor, "create");
      return manager.create(actor, spec, { onStep: progressTo(socket, spec.progress) });
    },
    context,
  );
  registerHandler(
    socket,
    "container:start",
    async (p, actor) => {
      await take(actor, "lifecycle");
      return manager.start(actor, p.id, p.waitReady === undefined ? {} : { waitReady: p.waitReady });
    },
    context,
  );
  registerHandler(
    socket,
    "container:stop",
    async (p, actor) => {
      await take(actor, "lifecycle");
      return manager.stop(actor, p.id, p.timeoutSec === undefined ? {} : { timeoutSec: p.timeoutSec });
    },
    context,
  );
  registerHandler(
    socket,
    "container:restart",
    async (p, actor) => {
      await take(actor, "lifecycle");
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
    async (p, actor) => {
      await take(actor, "lifecycle");
      return manager.delete(actor, p.id);
    },
    context,
  );
  registerHandler(
    socket,
    "container:status",
    (p, actor) =>
      p.spec === true
        ? limits.reads.run(async () => manager.detail(actor, p.id))
        : manager.status(actor, p.id),
    context,
  );
  registerHandler(socket, "container:list", (p, actor) => manager.list(actor, p), context);
}
