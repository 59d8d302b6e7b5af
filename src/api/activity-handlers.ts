import type { UserActivityLogger } from "../activity/user-activity-logger.ts";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";

const DEFAULT_HISTORY_LIMIT = 100;

/**
 * `activity:history`: the caller's entries after `afterId`, oldest first, so a
 * client that was away catches up with exactly what it missed; with `newest`,
 * the last `limit` of them (a feed's recent lines, or the id to follow from). Entries about a
 * deleted container are still there; `containerId` must then be the id (the
 * name no longer resolves), and only the owner's own entries are ever returned.
 */
export function registerActivityHandlers(
  socket: BerthSocket,
  activity: UserActivityLogger,
  manager: ContainerManager,
  context: { log: SystemLogger; redactor: OwnerRedactors },
): void {
  registerHandler(
    socket,
    "activity:history",
    (p, actor) => {
      let containerId = p.containerId;
      if (containerId !== undefined) {
        try {
          containerId = manager.resolve(actor, containerId).id;
        } catch {
          // A deleted container: its history stays readable by id, and the owner filter keeps it private.
        }
      }
      const limit = p.limit ?? DEFAULT_HISTORY_LIMIT;
      const items = activity.history({
        owner: actor.admin ? undefined : actor.owner,
        containerId,
        afterId: p.afterId,
        newest: p.newest,
        limit: limit + 1,
      });
      const hasMore = items.length > limit;
      // One entry more than asked says whether there are more: the oldest of the newest, or the newest of the first.
      return { items: p.newest ? items.slice(hasMore ? 1 : 0) : items.slice(0, limit), hasMore };
    },
    context,
  );
}
