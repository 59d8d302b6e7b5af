import { NotFoundError, ValidationError } from "../errors/errors.ts";
import type { ContainerRecord, ContainerStore } from "../store/store-ports.ts";
import type { Actor } from "./actor.ts";
import { isContainerId } from "./container-id.ts";

/**
 * Finds a container by berth id or by name, as `actor` may see it: an owner
 * sees their own only, the admin everyone's (a name several owners use is a
 * VALIDATION error asking for the id). Anything else is NOT_FOUND — also a
 * container of another owner, so that its existence is not told.
 */
export async function resolveContainer(
  repo: Pick<ContainerStore, "get" | "getByName" | "findByName">,
  actor: Actor,
  ref: string,
): Promise<ContainerRecord> {
  let record: ContainerRecord | undefined;
  if (isContainerId(ref)) {
    record = await repo.get(ref);
  } else if (actor.admin) {
    const matches = await repo.findByName(ref);
    if (matches.length > 1) {
      throw new ValidationError(`Several owners have a container named '${ref}'; use its id.`, {
        details: { ids: matches.map((m) => m.id) },
      });
    }
    record = matches[0];
  } else {
    record = await repo.getByName(actor.owner, ref);
  }
  if (!record || (!actor.admin && record.owner !== actor.owner)) throw new NotFoundError();
  return record;
}
