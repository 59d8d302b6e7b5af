import type { UserActivityLogger } from "../activity/user-activity-logger.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { boundedPage } from "./bounded-page.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";

const DEFAULT_HISTORY_LIMIT = 100;

/**
 * `activity:history`: the caller's entries after `afterId`, oldest first, so a
 * client that was away catches up with exactly what it missed; with `newest`,
 * the last `limit` of them (a feed's recent lines, or the id to follow from). Entries about a
 * deleted container are still there; `containerId` must then be the id (the
 * name no longer resolves), and only the owner's own entries are ever returned.
 * A page is bounded in bytes too (MAX_PAGE_BYTES, 1 MiB): fewer items than
 * `limit`, with `hasMore`, and the reader goes on from its last id. It runs
 * under the connection's cap on large reads, like logs and stats.
 */
export function registerActivityHandlers(
  socket: BerthSocket,
  activity: UserActivityLogger,
  manager: ContainerManager,
  context: { log: SystemLogger; redactor: OwnerRedactors },
  limits: Pick<ConnectionLimits, "reads">,
): void {
  registerHandler(
    socket,
    "activity:history",
    (p, actor) =>
      limits.reads.run(async () => {
        let containerId = p.containerId;
        if (containerId !== undefined) {
          try {
            containerId = (await manager.resolve(actor, containerId)).id;
          } catch {
            // A deleted container: its history stays readable by id, and the owner filter keeps it private.
          }
        }
        const limit = p.limit ?? DEFAULT_HISTORY_LIMIT;
        const items = await activity.history({
          owner: actor.admin ? undefined : actor.owner,
          containerId,
          afterId: p.afterId,
          newest: p.newest,
          limit: limit + 1,
        });
        // One entry more than asked says whether there are more: the oldest of the newest, or the newest of the first.
        const asked = items.length > limit;
        const wanted = p.newest ? items.slice(asked ? 1 : 0) : items.slice(0, limit);
        // The newest are cut from their oldest end (older ones are what remain); a catch-up, from its newest.
        const page = boundedPage(wanted, p.newest ? "last" : "first");
        return { items: page.items, hasMore: asked || page.cut };
      }),
    context,
  );
}
