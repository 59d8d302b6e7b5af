import type { ImageChecker } from "../images/image-checker.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type BerthSocket, registerHandler } from "./register-handler.ts";

/**
 * `image:check`: the admin's only (owners get FORBIDDEN). Any image the
 * engine may have, allowed or not — checking one before it is added to
 * BERTH_ALLOWED_IMAGES is what the check is for, and the admin can already
 * see and run everything; the name is held to Docker's reference grammar.
 */
export function registerImageHandlers(
  socket: BerthSocket,
  checker: ImageChecker,
  context: { log: SystemLogger; redactor: OwnerRedactors },
): void {
  registerHandler(
    socket,
    "image:check",
    (p, actor) => checker.check(actor, { image: p.image, code: p.code }, context.redactor.forViewer(actor)),
    { ...context, adminOnly: true },
  );
}
