import type { CodeEntryList } from "../code/code-entry.ts";
import { packRelease } from "../code/pack-release.ts";
import { asStorageError } from "../errors/as-storage-error.ts";
import type { ReleaseContentStore } from "../store/store-ports.ts";

/**
 * Cluster mode: a new release's contents, packed (code/pack-release.ts) and
 * put in the store every API server shares, so that a node the workload is
 * moved to later can be given its code — the node it runs on now is the only
 * other place it exists. Put before the release's row, which names it (the
 * sweep spares a content put moments ago). Single-host berth keeps no
 * contents (`contents` undefined): its releases live on its one disk.
 */
export async function keepReleaseContent(
  contents: ReleaseContentStore | undefined,
  entries: CodeEntryList,
): Promise<{ contentDigest?: string }> {
  if (!contents) return {};
  const { bytes, digest } = packRelease(entries);
  try {
    await contents.put(digest, bytes);
  } catch (err) {
    throw asStorageError(err);
  }
  return { contentDigest: digest };
}
