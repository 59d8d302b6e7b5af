import { randomBytes } from "node:crypto";

/**
 * berth ids look like `C7KX2M9QF4TA`: a capital C and eleven characters of
 * Crockford's base32 in capitals. Names are lower-case, so no name can ever
 * be mistaken for an id; twelve characters keep the socket path short
 * (Unix socket paths stop at 107 bytes).
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const CONTAINER_ID_PATTERN = /^C[0-9A-HJKMNP-TV-Z]{11}$/;

export function newContainerId(): string {
  const bytes = randomBytes(11);
  let id = "C";
  for (const b of bytes) id += ALPHABET[b & 31];
  return id;
}

export function isContainerId(value: string): boolean {
  return CONTAINER_ID_PATTERN.test(value);
}
