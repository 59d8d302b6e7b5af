import { assertSocketPathFits } from "../channel/socket-path.ts";
import { PgChangeNotices } from "../cluster/pg-change-notices.ts";
import type { Config } from "../config/config.ts";
import { loadInstanceId, prepareDataDir } from "../config/data-dir.ts";
import { PidFile } from "../config/pid-file.ts";
import { newContainerId } from "../containers/container-id.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger, type SystemLogger } from "../logging/system-logger.ts";
import { openSecretsAtRest, type SecretsAtRest } from "../secrets/secrets-at-rest.ts";
import { openStore, sqlitePath } from "../store/open-store.ts";
import { openPostgresSecretsAtRest } from "../store/postgres/postgres-secrets-at-rest.ts";
import { openDatabase } from "../store/sqlite/database.ts";
import type { Store } from "../store/store-ports.ts";
import type { BerthOptions } from "./berth-options.ts";
import type { DisposalStack } from "./disposal-stack.ts";

/** What every later part of berth stands on. */
export interface BerthBase {
  /** Every secret and token, per owner; `secrets.system` redacts the system log. */
  secrets: SecretRegistry;
  log: SystemLogger;
  store: Store;
  /**
   * PostgreSQL only: a notice at each commit that makes or removes a container row or changes its state, on
   * every API server (the owners kept in memory for the hot calls, the leader's health watch). Started by
   * Berth.start(); undefined with SQLite, which one server alone uses.
   */
  containerChanges: PgChangeNotices | undefined;
  instanceId: string;
  pidFile: PidFile;
}

/**
 * The first step of building berth: the secret registry (filled before
 * anything can fail, so that no error message carries a token out), the
 * system log, the data directory, the key for secrets at rest (made at the
 * first start), the store, and the instance id.
 */
export async function openBase(
  config: Config,
  options: BerthOptions,
  stack: DisposalStack,
): Promise<BerthBase> {
  const secrets = options.secrets ?? new SecretRegistry();
  secrets.setTokens(config.tokens, config.adminToken);
  // The database URL's password and Redis's too: a store or a Redis that cannot be reached must not say it in
  // its error. And the node agents' token, which no line of the system log may hold.
  secrets.setServerSecrets([
    ...(config.database?.secrets() ?? []),
    ...(config.redis?.secrets() ?? []),
    ...(config.agentToken === undefined ? [] : [config.agentToken]),
  ]);
  const log = createSystemLogger({
    level: config.logLevel,
    redactor: secrets.system,
    pretty: options.logDestination === undefined && process.stdout.isTTY === true,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  // Disposed of last: the lines of everything closed before it are written out.
  stack.defer("system log", () => log.flush());
  prepareDataDir(config.dataDir, config.runDir);
  // Removed after the store closed: the tools that must not run beside berth (the key rotation) wait for it.
  const pidFile = new PidFile(config.dataDir);
  stack.defer("pid file", () => pidFile.remove());
  const atRest = config.database
    ? await openPostgresSecretsAtRest(config.database.reveal(), config.secretKeyFile, log)
    : openSqliteSecretsAtRest(config);
  const store = await openStore(config, atRest.cipher, log);
  stack.defer("store", () => store.close());
  const url = config.database?.reveal();
  const containerChanges = url === undefined ? undefined : new PgChangeNotices(url, "states", log);
  if (containerChanges) stack.defer("container state notices", () => containerChanges.close());
  if (atRest.createdKey) log.info({ file: config.secretKeyFile }, "created the key for secrets at rest");
  if (atRest.sealedNow > 0)
    log.info({ values: atRest.sealedNow }, "sealed secret values stored in plain text by an earlier berth");
  assertSocketPathFits(config.runDir, newContainerId());
  return { secrets, log, store, containerChanges, instanceId: await instanceIdOf(config, store), pidFile };
}

/**
 * The key for secrets at rest, made at the first start, and the plain-text values an earlier
 * berth stored sealed now. SQLite only (see openSecretsAtRest): it works on the file itself,
 * before the store opens it.
 */
function openSqliteSecretsAtRest(config: Config): SecretsAtRest {
  const db = openDatabase(sqlitePath(config));
  try {
    return openSecretsAtRest(db, config.secretKeyFile);
  } finally {
    db.close();
  }
}

/**
 * The id berth labels its engine objects with, and lists them by. A single
 * host's berth keeps its own in its data directory. The API servers of one
 * cluster share the workloads, so they must recognise each other's
 * containers: they share one id, kept in the store — the first server's own
 * (so that a cluster grown from one server keeps the labels it made).
 */
async function instanceIdOf(config: Config, store: Store): Promise<string> {
  const own = loadInstanceId(config.dataDir);
  return config.cluster ? store.meta.claim(CLUSTER_INSTANCE_KEY, own) : own;
}

const CLUSTER_INSTANCE_KEY = "cluster-instance";
