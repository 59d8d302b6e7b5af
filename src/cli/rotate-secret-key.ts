import { ConfigError, loadConfig } from "../config/config.ts";
import { pidFilePath, runningBerthPid } from "../config/pid-file.ts";
import { rotateSecretKey } from "../secrets/rotate-secret-key.ts";
import { openDatabase } from "../store/sqlite/database.ts";

/**
 * `npm run secrets:rotate-key`: seals every secret in the store with a new
 * key and retires the old ones. Reads the same environment as berth
 * (BERTH_DATA_DIR, BERTH_SECRET_KEY_FILE); run it while berth is stopped.
 * SQLite only: it opens berth's SQLite file in the data directory.
 */
function main(): void {
  try {
    const config = loadConfig(process.env);
    const pid = runningBerthPid(config.dataDir);
    if (pid !== undefined) {
      process.stderr.write(
        `berth: berth is running (pid ${pid}) on ${config.dataDir}; stop it, then rotate the key. (If it is not, remove ${pidFilePath(config.dataDir)}.)\n`,
      );
      process.exit(1);
    }
    const db = openDatabase(`${config.dataDir}/berth.db`);
    try {
      const report = rotateSecretKey(db, config.secretKeyFile);
      process.stdout.write(
        `berth: sealed ${report.values} secret values of ${report.containers} containers with the new key ${report.to}; retired ${report.from.join(", ")} (${config.secretKeyFile}).\n`,
      );
    } finally {
      db.close();
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`berth: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

main();
