import { ADMIN_OWNER } from "./identity.ts";

const OWNER_NAME = /^[A-Za-z0-9_.@-]{1,64}$/;

/**
 * Why `name` cannot be an owner's name, or undefined when it can. `admin` is
 * refused in any letter case: the admin's own containers carry that owner
 * name, and an `Admin` beside an `admin` is a mistake waiting to happen in
 * every log and label that shows owners.
 */
export function checkOwnerName(name: string): string | undefined {
  if (!OWNER_NAME.test(name)) return "an owner name is 1–64 of A-Z a-z 0-9 _ . @ -";
  if (name.toLowerCase() === ADMIN_OWNER) return `'${ADMIN_OWNER}' is reserved for the admin (in any case)`;
  return undefined;
}

/** Tokens are at least this long, so that guessing one through the handshake is hopeless. */
export const MIN_TOKEN_LENGTH = 8;
/** The handshake refuses longer tokens before hashing them. */
export const MAX_TOKEN_LENGTH = 1024;
