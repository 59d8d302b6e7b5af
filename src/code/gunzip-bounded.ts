import { gunzipSync } from "node:zlib";
import { archiveError } from "./archive-error.ts";

/** zlib's default chunk is 16 KiB; fewer round trips when the trailer gives no useful size. */
const MIN_CHUNK = 64 * 1024;

/** True when `data` starts with the gzip magic bytes (1f 8b). */
export function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/**
 * Inflates a gzip stream, refusing it as soon as the output passes `maxOutput`:
 * zlib stops between chunks, so a bomb costs at most `maxOutput` bytes of
 * memory and the time to inflate them, never its full expanded size.
 *
 * zlib returns one chunk as it is but concatenates several, which holds the
 * inflated bytes twice at the peak; so the chunk is sized from the gzip
 * trailer's ISIZE (the inflated size modulo 2^32). The trailer is only a hint,
 * kept within [64 KiB, maxOutput + 1]: when it lies, the output comes in more
 * chunks (as without it) or in one larger allocation within the budget, and
 * the limit is still counted on what zlib actually produces.
 */
export function gunzipBounded(gz: Uint8Array, maxOutput: number): Buffer {
  try {
    return gunzipSync(gz, { maxOutputLength: maxOutput, chunkSize: chunkSizeFor(gz, maxOutput) });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw archiveError("too-large", undefined, `expands to more than ${maxOutput} bytes`, err);
    }
    if (code === "Z_BUF_ERROR") {
      throw archiveError("gzip-truncated", undefined, "is a truncated gzip stream", err);
    }
    throw archiveError("gzip-corrupt", undefined, "is not a valid gzip stream", err);
  }
}

function chunkSizeFor(gz: Uint8Array, maxOutput: number): number {
  if (gz.length < 18) return MIN_CHUNK; // shorter than a gzip header and trailer: zlib will refuse it
  const view = new DataView(gz.buffer, gz.byteOffset, gz.byteLength);
  const isize = view.getUint32(gz.length - 4, true);
  // One byte over the size, so zlib sees room left and does not allocate a next chunk to look for more.
  return Math.max(MIN_CHUNK, Math.min(isize, maxOutput) + 1);
}
