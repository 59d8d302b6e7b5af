import { join } from "node:path";
import { BerthError } from "../errors/berth-error.ts";

/** sun_path is 108 bytes on Linux, one of them the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;
export const SOCKET_FILE_NAME = "berth.sock";

export function socketPathFor(runDir: string, id: string): string {
  return join(runDir, id, SOCKET_FILE_NAME);
}

/** The run directory is too deep for a Unix socket path; only a shorter BERTH_RUN_DIR helps. */
export class SocketPathTooLongError extends BerthError {
  constructor(path: string, bytes: number, maxRunDirBytes: number) {
    super(
      "INTERNAL",
      `The channel socket path ${path} is ${bytes} bytes, but a Unix socket path may have at most ` +
        `${MAX_SOCKET_PATH_BYTES}. Set BERTH_RUN_DIR to a directory of at most ${maxRunDirBytes} bytes (e.g. /run/berth).`,
      { details: { bytes, limitBytes: MAX_SOCKET_PATH_BYTES } },
    );
  }
}

/**
 * Throws SocketPathTooLongError when `<runDir>/<id>/berth.sock` would not fit.
 * Call it at start-up with any id (all ids have one length) to fail before the
 * first container rather than at its start.
 *
 * @example
 *   assertSocketPathFits(config.runDir, newContainerId());
 */
export function assertSocketPathFits(runDir: string, id: string): string {
  const path = socketPathFor(runDir, id);
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    const runDirBytes = Buffer.byteLength(join(runDir));
    throw new SocketPathTooLongError(path, bytes, Math.max(0, MAX_SOCKET_PATH_BYTES - (bytes - runDirBytes)));
  }
  return path;
}
