import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Creates the data directory, owner-only: it holds the store (with secretEnv values, sealed) and the code. */
export function prepareDataDir(dataDir: string, runDir: string): void {
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  mkdirSync(runDir, { recursive: true, mode: 0o755 });
  // The run directory must be traversable by workload uids to reach their sockets.
  chmodSync(runDir, 0o755);
  mkdirSync(join(dataDir, "code"), { recursive: true, mode: 0o755 });
}

/**
 * This server's instance id, made once and kept in the data directory. Engine
 * containers carry it as `berth.instance`, so several servers (and test runs)
 * can share one engine and each adopts only its own.
 */
export function loadInstanceId(dataDir: string): string {
  const file = join(dataDir, "instance-id");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const id = randomBytes(8).toString("hex");
  writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}
