import type { Actor } from "../containers/actor.ts";

/**
 * Who a token belongs to: the admin, or one owner. A discriminated union, so
 * nothing can be both, and no owner name can stand for the admin: an owner's
 * identity only ever comes from a name that `checkOwnerName` accepted, and
 * that function refuses `admin` in any case.
 */
export type Identity = { readonly kind: "admin" } | { readonly kind: "owner"; readonly owner: string };

/**
 * The owner recorded on containers the admin creates. No owner may take this
 * name (see owner-name.ts), so the admin's containers are never an owner's.
 */
export const ADMIN_OWNER = "admin";

/** What the services see of an identity: an owner sees their own containers, the admin sees all. */
export function actorOf(identity: Identity): Actor {
  return identity.kind === "admin"
    ? { owner: ADMIN_OWNER, admin: true }
    : { owner: identity.owner, admin: false };
}

/** The identity behind an actor that `actorOf` made (a connection's `socket.data`). */
export function identityOf(actor: Actor): Identity {
  return actor.admin ? { kind: "admin" } : { kind: "owner", owner: actor.owner };
}

export function sameIdentity(a: Identity, b: Identity): boolean {
  return a.kind === "admin" ? b.kind === "admin" : b.kind === "owner" && b.owner === a.owner;
}
