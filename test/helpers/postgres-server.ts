import { execFile, execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/**
 * What a test needs to reach a throwaway PostgreSQL server: the directory of
 * its Unix socket and two passwords (the superuser's, to make and drop
 * databases; berth's role's, which owns them). Plain data, so that a Vitest
 * globalSetup can `provide` it to every test file.
 */
export interface PostgresServerInfo {
  socketDir: string;
  adminPassword: string;
  berthPassword: string;
}

/** One database of its own, owned by the `berth` role; `drop()` removes it (safe to call twice). */
export interface FreshDatabase {
  name: string;
  /** postgresql://berth:…@localhost/<name>?host=<socket dir>, as BERTH_DATABASE_URL. */
  url: string;
  drop(): Promise<void>;
}

/** A PostgreSQL server started for tests; `stop()` ends it and removes its directory (safe to call twice). */
export interface PostgresServer extends PostgresDatabases {
  readonly info: PostgresServerInfo;
  stop(): Promise<void>;
  /**
   * Stops the server as a crash would (immediate shutdown: every connection
   * ends at once, its socket goes away), keeping its data and its databases.
   */
  halt(): Promise<void>;
  /** Starts a halted server again, on the same socket, with the same data (after crash recovery). */
  resume(): Promise<void>;
}

/**
 * Starts Debian's PostgreSQL (the newest under /usr/lib/postgresql) as a
 * throwaway cluster in a temporary directory: `initdb` refuses to run as
 * root, so when the tests run as root the cluster belongs to the `postgres`
 * system user (or `nobody`). It listens on a Unix socket in that directory
 * only (no TCP port, so nothing else on the machine reaches it), without
 * fsync (nothing in it must survive a crash). It is stopped and removed by
 * `stop()`, and by an exit hook should a test end the process first.
 *
 * @example
 *   const server = await startPostgresServer();
 *   const db = await server.freshDatabase();
 *   const store = await openPostgresStore(db.url, cipher);
 *   …
 *   await db.drop();
 *   await server.stop();
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = postgresBinaries();
  removeOrphans(bin);
  const dir = await mkdtemp(join(tmpdir(), PREFIX));
  // Who started it: a later run ends the server if this process died without its exit hook (SIGKILL).
  await writeFile(join(dir, "started-by"), String(process.pid));
  const owner = serverUser();
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const data = join(dir, "data");
  const info: PostgresServerInfo = {
    socketDir: dir,
    adminPassword: randomBytes(18).toString("base64url"),
    berthPassword: randomBytes(18).toString("base64url"),
  };
  const pwfile = join(dir, "pwfile");
  await writeFile(pwfile, info.adminPassword, { mode: 0o600 });
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chown(pwfile, owner.uid, owner.gid);
  }
  const stopNow = () => {
    spawnSync(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "immediate"], { ...as, stdio: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  };
  // Should the test's process end without calling stop() (a failed beforeAll, an uncaught error).
  process.once("exit", stopNow);
  try {
    await run(
      join(bin, "initdb"),
      [
        "-D",
        data,
        "-U",
        "postgres",
        `--pwfile=${pwfile}`,
        "--auth=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
      ],
      { ...as, cwd: dir },
    );
    const options = [
      `-k ${dir}`,
      "-c listen_addresses=''",
      "-F", // no fsync: a throwaway cluster
      "-c full_page_writes=off",
      "-c synchronous_commit=off",
      // Every berth of a system run holds a pool of up to 10.
      "-c max_connections=400",
    ].join(" ");
    const start = () =>
      run(join(bin, "pg_ctl"), ["start", "-w", "-D", data, "-l", join(dir, "server.log"), "-o", options], {
        ...as,
        cwd: dir,
      });
    await start();
    const databases = new PostgresDatabases(info);
    await databases.admin(async (client) => {
      await client.query(`CREATE ROLE berth LOGIN PASSWORD '${info.berthPassword}'`);
    });
    let stopping: Promise<void> | undefined;
    return Object.assign(databases, {
      info,
      async halt(): Promise<void> {
        await run(join(bin, "pg_ctl"), ["stop", "-w", "-D", data, "-m", "immediate"], as);
      },
      async resume(): Promise<void> {
        await start();
      },
      stop(): Promise<void> {
        stopping ??= (async () => {
          await databases.close();
          await run(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "immediate"], as).catch(() => undefined);
          await rm(dir, { recursive: true, force: true });
          process.off("exit", stopNow);
        })();
        return stopping;
      },
    });
  } catch (err) {
    stopNow();
    process.off("exit", stopNow);
    throw err;
  }
}

/** Makes and drops databases on a server started elsewhere (by startPostgresServer, here or in a globalSetup). */
export class PostgresDatabases {
  readonly #info: PostgresServerInfo;
  readonly #made = new Set<FreshDatabase>();

  constructor(info: PostgresServerInfo) {
    this.#info = info;
  }

  /** A URL to the server as `user` with `password`, to the database `name`. */
  url(user: string, password: string, name: string): string {
    return `postgresql://${user}:${encodeURIComponent(password)}@localhost/${name}?host=${encodeURIComponent(this.#info.socketDir)}`;
  }

  /** Runs `fn` on a superuser connection of its own. */
  async admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({
      connectionString: this.url("postgres", this.#info.adminPassword, "postgres"),
    });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  /** A new, empty database owned by the `berth` role. */
  async freshDatabase(): Promise<FreshDatabase> {
    const name = `berth_${randomBytes(6).toString("hex")}`;
    await this.admin((client) => client.query(`CREATE DATABASE ${name} OWNER berth`));
    let dropping: Promise<void> | undefined;
    const db: FreshDatabase = {
      name,
      url: this.url("berth", this.#info.berthPassword, name),
      drop: () => {
        this.#made.delete(db);
        // FORCE: a berth that was killed may leave connections behind until the server notices.
        dropping ??= this.admin(async (client) => {
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        }).catch(() => undefined); // the server is gone already: so is the database
        return dropping;
      },
    };
    this.#made.add(db);
    return db;
  }

  /** The database `name`, made (owned by `berth`) unless it exists; for a name that must outlive one process. */
  async ensureDatabase(name: string): Promise<{ name: string; url: string }> {
    await this.admin(async (client) => {
      try {
        await client.query(`CREATE DATABASE ${name} OWNER berth`);
      } catch (err) {
        if ((err as { code?: string }).code !== "42P04") throw err; // duplicate_database: made before
      }
    });
    return { name, url: this.url("berth", this.#info.berthPassword, name) };
  }

  /** Drops the database `name` if it exists, ending connections a killed berth left behind. */
  async dropDatabase(name: string): Promise<void> {
    await this.admin(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  }

  /** Drops every database made here and not dropped yet. */
  async close(): Promise<void> {
    await Promise.all([...this.#made].map((db) => db.drop()));
  }
}

const PREFIX = "berth-pg-";

const NUMBERS: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 || oid === 1700
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/** Stops and removes the servers of test processes that are gone (killed before their exit hook ran). */
function removeOrphans(bin: string): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX))) {
    const dir = join(tmpdir(), name);
    let pid: number;
    try {
      pid = Number(readFileSync(join(dir, "started-by"), "utf8"));
    } catch {
      continue; // still being made, or not one of ours
    }
    if (isAlive(pid)) continue;
    const data = join(dir, "data");
    const owner = statSync(dir);
    spawnSync(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "immediate"], {
      uid: owner.uid,
      gid: owner.gid,
      stdio: "ignore",
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether the process runs (a zombie, killed and not yet reaped, does not). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/** The bin directory of the newest PostgreSQL Debian's packages installed. */
export function postgresBinaries(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error(`no PostgreSQL under ${base}: scripts/setup.mjs installs Debian's postgresql package`);
  return join(base, versions[0]!, "bin");
}

/** Whom the server runs as: none to change to unless the tests run as root, which initdb refuses. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
      return { uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error(
    "running as root, and neither the postgres nor the nobody user exists to run PostgreSQL as",
  );
}

/**
 * Runs `fn` on a connection of its own to the database at `url` (what another
 * berth, or psql, would do). BIGINT and numeric come back as numbers, as berth
 * reads them (times in ms, byte counts), so rows compare with its records.
 */
export async function onConnection<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, types: NUMBERS });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
