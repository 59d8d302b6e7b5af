import { ConfigError, loadConfig } from "../config/config.ts";
import { pidFilePath, runningBerthPid } from "../config/pid-file.ts";
import { type RotationReport, rotateSecretKey } from "../secrets/rotate-secret-key.ts";
import { rotatePostgresSecretKey } from "../store/postgres/postgres-rotate-secret-key.ts";
import { openDatabase } from "../store/sqlite/database.ts";

/**
 * `npm run secrets:rotate-key`: seals every secret in the store with a new
 * key and retires the old ones. Reads the same environment as berth
 * (BERTH_DATA_DIR, BERTH_SECRET_KEY_FILE, BERTH_DATABASE_URL); run it while
 * berth is stopped. The store is the one berth would open: the PostgreSQL
 * database of BERTH_DATABASE_URL, or the SQLite file in the data directory.
 */
async function main(): Promise<void> {
  try {
    const config = loadConfig(process.env);
    const pid = runningBerthPid(config.dataDir);
    if (pid !== undefined) {
      process.stderr.write(
        `berth: berth is running (pid ${pid}) on ${config.dataDir}; stop it, then rotate the key. (If it is not, remove ${pidFilePath(config.dataDir)}.)\n`,
      );
      process.exit(1);
    }
    const report = config.database
      ? await rotatePostgresSecretKey(config.database.reveal(), config.secretKeyFile)
      : rotateSqlite(`${config.dataDir}/berth.db`, config.secretKeyFile);
    process.stdout.write(
      `berth: sealed ${report.values} secret values of ${report.containers} containers with the new key ${report.to}; retired ${report.from.join(", ")} (${config.secretKeyFile}).\n`,
    );
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`berth: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

function rotateSqlite(path: string, keyFile: string): RotationReport {
  const db = openDatabase(path);
  try {
    return rotateSecretKey(db, keyFile);
  } finally {
    db.close();
  }
}

await main();
