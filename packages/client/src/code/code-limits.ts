/**
 * The server limits code must fit: the numbers `server:info` answers in its
 * `limits` (`maxCodeBytes`, `maxCodeFiles`, `maxPayloadBytes`).
 */
export interface CodeLimits {
  /** Code of one release, files or unpacked archive, in bytes. */
  maxCodeBytes: number;
  /** Files in the `files` form; files, folders and symlinks in an archive. */
  maxCodeFiles: number;
  /** The largest Socket.IO message the server accepts; a larger one closes the connection. */
  maxPayloadBytes: number;
}

/** berth's defaults (BERTH_MAX_CODE_BYTES, BERTH_MAX_CODE_FILES, BERTH_MAX_PAYLOAD_BYTES). */
export const DEFAULT_CODE_LIMITS: Readonly<CodeLimits> = Object.freeze({
  maxCodeBytes: 8 * 1024 * 1024,
  maxCodeFiles: 10_000,
  maxPayloadBytes: 16 * 1024 * 1024,
});
