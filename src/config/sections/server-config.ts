import { join, resolve, sep } from "node:path";
import { z } from "zod";
import { ConfigError } from "../config-error.ts";
import { DatabaseUrl } from "../database-url.ts";
import { type EnvOf, envInt } from "../env-values.ts";

/** Where berth listens unless BERTH_HOST and BERTH_PORT say otherwise (also the API document's defaults). */
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 7300;

/** Where berth listens, keeps its data and its key, finds the engine, and how much it logs. */
export const ServerEnv = {
  BERTH_HOST: z.string().default(DEFAULT_HOST),
  BERTH_PORT: envInt(DEFAULT_PORT, 0, 65535),
  BERTH_DATA_DIR: z.string().default("./data"),
  // Checked in serverConfig, whose message never quotes the value: it holds the password.
  BERTH_DATABASE_URL: z.string().optional(),
  BERTH_RUN_DIR: z.string().optional(),
  BERTH_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  BERTH_DOCKER_SOCKET: z.string().optional(),
  DOCKER_HOST: z.string().optional(),
  BERTH_SECRET_KEY_FILE: z.string().min(1).optional(),
  XDG_CONFIG_HOME: z.string().optional(),
  HOME: z.string().optional(),
};

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** BERTH_DATABASE_URL: the store in PostgreSQL; undefined: SQLite at `<dataDir>/berth.db`. */
  readonly database: DatabaseUrl | undefined;
  readonly runDir: string;
  readonly logLevel: string;
  readonly dockerSocket: string;
  /** The key file that seals secret values in the store; outside the data directory. */
  readonly secretKeyFile: string;
}

export function serverConfig(e: EnvOf<typeof ServerEnv>): ServerConfig {
  const dataDir = resolve(e.BERTH_DATA_DIR);
  let database: DatabaseUrl | undefined;
  if (e.BERTH_DATABASE_URL !== undefined && e.BERTH_DATABASE_URL !== "") {
    const parsed = DatabaseUrl.parse(e.BERTH_DATABASE_URL);
    if (!(parsed instanceof DatabaseUrl)) throw ConfigError.invalid(`BERTH_DATABASE_URL: ${parsed.problem}`);
    database = parsed;
  }
  const dockerHost = e.DOCKER_HOST?.startsWith("unix://") ? e.DOCKER_HOST.slice(7) : undefined;
  const secretKeyFile = resolve(e.BERTH_SECRET_KEY_FILE ?? defaultSecretKeyFile(e.XDG_CONFIG_HOME, e.HOME));
  if (secretKeyFile.startsWith(dataDir + sep)) {
    throw ConfigError.invalid(
      "BERTH_SECRET_KEY_FILE must be outside BERTH_DATA_DIR (a copy of the data directory must not carry the key to its secrets)",
    );
  }
  return {
    host: e.BERTH_HOST,
    port: e.BERTH_PORT,
    dataDir,
    database,
    runDir: resolve(e.BERTH_RUN_DIR ?? `${dataDir}/run`),
    logLevel: e.BERTH_LOG_LEVEL,
    dockerSocket: e.BERTH_DOCKER_SOCKET ?? dockerHost ?? "/var/run/docker.sock",
    secretKeyFile,
  };
}

/**
 * Where the key for secrets at rest lives unless BERTH_SECRET_KEY_FILE says:
 * beside other system configuration when berth runs as root, else in the
 * user's configuration directory — in either case outside the data
 * directory, so that backing up or copying the data does not copy the key.
 */
function defaultSecretKeyFile(xdgConfigHome: string | undefined, home: string | undefined): string {
  if (process.getuid?.() === 0) return "/etc/berth/secret.key";
  const base = xdgConfigHome || (home ? join(home, ".config") : undefined);
  if (!base) {
    throw ConfigError.invalid(
      "BERTH_SECRET_KEY_FILE: not set, and neither XDG_CONFIG_HOME nor HOME says where to keep it",
    );
  }
  return join(base, "berth", "secret.key");
}
