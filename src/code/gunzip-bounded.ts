import { gunzipSync } from "node:zlib";
import { archiveError } from "./archive-error.ts";

/** True when `data` starts with the gzip magic bytes (1f 8b). */
export function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/**
 * Inflates a gzip stream, refusing it as soon as the output passes `maxOutput`:
 * zlib stops between chunks, so a bomb costs at most `maxOutput` bytes of
 * memory and the time to inflate them, never its full expanded size.
 */
export function gunzipBounded(gz: Uint8Array, maxOutput: number): Buffer {
  try {
    // Larger chunks than the 16 KiB default: fewer round trips for an 8 MiB release.
    return gunzipSync(gz, { maxOutputLength: maxOutput, chunkSize: 64 * 1024 });
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
