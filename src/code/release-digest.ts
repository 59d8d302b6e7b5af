import { createHash } from "node:crypto";

/** How a release's content is named: its algorithm, then 64 lowercase hex digits. */
export const RELEASE_DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The name of a packed release (packRelease's bytes): `sha256:<hex>` of the
 * bytes exactly. The store checks a put against it and an agent checks what
 * it fetched against it, so both compute it here, one way.
 *
 * @example
 *   releaseDigest(packRelease(entries).bytes); // "sha256:9f86d0…"
 */
export function releaseDigest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}
