import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { ConfigError } from "../config/config.ts";

/** Where an older berth kept the admin token it generated: inside the data directory. */
export const LEGACY_ADMIN_TOKEN = "admin-token";

/**
 * The generated admin token's file: beside the key file for secrets at rest
 * (so outside the data directory), named after it — `secret.key` →
 * `secret.admin-token` — so that two key files in one directory (tests, or
 * several servers) never share an admin token.
 */
export function adminTokenPath(secretKeyFile: string): string {
  return secretKeyFile.replace(/(\.key)?$/, ".admin-token");
}

export interface GeneratedAdminToken {
  token: string;
  /** Made now: the caller prints it once. */
  created: boolean;
  /** Taken from the data directory, where an older berth kept it (and removed there). */
  movedFrom?: string;
}

/**
 * With neither BERTH_TOKENS nor BERTH_ADMIN_TOKEN set (so also with a tokens
 * file), berth makes an admin token at first start and keeps it in `file`,
 * mode 0600 — beside the key for secrets at rest and, like it, outside the
 * data directory, so a backup or copy of the data directory carries no admin
 * access. A token an older berth kept in `<dataDir>/admin-token` is moved
 * there (the same token goes on working); if both exist, the one at `file`
 * is in force and the old copy is removed. A token file that group or others
 * may read is refused, as the key file is.
 */
export function loadOrCreateAdminToken(file: string, dataDir: string): GeneratedAdminToken {
  const legacy = join(dataDir, LEGACY_ADMIN_TOKEN);
  if (existsSync(file)) {
    const token = readTokenFile(file);
    if (existsSync(legacy)) {
      unlinkSync(legacy);
      return { token, created: false, movedFrom: legacy };
    }
    return { token, created: false };
  }
  if (existsSync(legacy)) {
    const token = readFileSync(legacy, "utf8").trim();
    writeTokenFile(file, token);
    // Only once the new file is on disk: a crash in between leaves a token that still works, never none.
    unlinkSync(legacy);
    return { token, created: false, movedFrom: legacy };
  }
  const token = `berth_${randomBytes(24).toString("base64url")}`;
  writeTokenFile(file, token);
  return { token, created: true };
}

function readTokenFile(file: string): string {
  const stat = statSync(file);
  if ((stat.mode & 0o077) !== 0) {
    throw new ConfigError(
      `invalid configuration:\n  the admin token file ${file} can be read or written by others (mode ${(stat.mode & 0o777).toString(8)}); make it 0600 (chmod 600 ${file})`,
    );
  }
  return readFileSync(file, "utf8").trim();
}

/** Creates the file (never replaces one), mode 0600, in a directory made 0700 if missing; fsynced. */
function writeTokenFile(file: string, token: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, "wx", 0o600);
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
