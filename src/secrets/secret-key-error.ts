import { ConfigError } from "../config/config.ts";

/**
 * The key file for secrets at rest is missing, unsafe or wrong for the store.
 * A configuration error: berth refuses to start (main prints the message and
 * exits 2) rather than run with secrets it cannot read, or with a key that
 * others can read. The message names the file and the fix, never a key.
 */
export class SecretKeyError extends ConfigError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`secret key: ${message}`, options);
    this.name = "SecretKeyError";
  }
}
