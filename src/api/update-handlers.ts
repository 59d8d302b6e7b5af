import type { RateGate } from "../admission/rate-limiter.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { CodeUpdater } from "../updates/code-updater.ts";
import { progressTo } from "./progress-reporter.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";

/** Code updates: `container:update`, `container:rollback` (both take a token from the owner's update bucket), `container:releases`. */
export function registerUpdateHandlers(
  socket: BerthSocket,
  updater: CodeUpdater,
  context: { log: SystemLogger; redactor: OwnerRedactors; rates?: RateGate | undefined },
): void {
  registerHandler(
    socket,
    "container:update",
    async (p, actor) => {
      await context.rates?.take(actor, "update");
      return updater.update(
        actor,
        p.id,
        { code: p.code, readyTimeoutMs: p.readyTimeoutMs, healthCheck: p.healthCheck },
        { onStep: progressTo(socket, p.progress) },
      );
    },
    context,
  );
  registerHandler(
    socket,
    "container:rollback",
    async (p, actor) => {
      await context.rates?.take(actor, "update");
      return updater.rollback(actor, p.id, p.release, { onStep: progressTo(socket, p.progress) });
    },
    context,
  );
  registerHandler(
    socket,
    "container:releases",
    async (p, actor) => ({ items: await updater.releases(actor, p.id) }),
    context,
  );
}
