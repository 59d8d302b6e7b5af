import { releaseDigest } from "../../code/release-digest.ts";
import { ContentDigestMismatchError } from "../store-errors.ts";

/** A row of `release_contents`, the same in both databases (bytes as each database's driver gives them). */
export interface ReleaseContentRow {
  bytes: Uint8Array;
}

/**
 * The bytes, when `digest` is theirs; otherwise ContentDigestMismatchError.
 * Both stores check a put with it before writing, and a get before answering.
 */
export function checkedContent(digest: string, bytes: Uint8Array): Buffer {
  const actual = releaseDigest(bytes);
  if (actual !== digest) throw new ContentDigestMismatchError(digest, actual);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
