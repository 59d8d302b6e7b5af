import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where Debian's package puts the server (scripts/setup.mjs --with-redis installs it). */
const REDIS_SERVER = "/usr/bin/redis-server";
const PREFIX = "berth-redis-";
const READY = "Ready to accept connections";
const START_TIMEOUT_MS = 10_000;

/** Whether Debian's redis-server is installed here. */
const REDIS_INSTALLED = existsSync(REDIS_SERVER);
/**
 * Whether the tests that need Redis run: where redis-server is installed, and
 * always under CI (`CI` set, as every CI service does). `npm test` installs it
 * (scripts/setup.mjs --with-redis), so there a missing server is a broken
 * set-up, and it must fail those tests (startRedisServer throws) rather than
 * skip them: a skipped test cannot fail. On a developer's machine without
 * it (`npm run test:unit` alone) they are skipped. PostgreSQL's tests never
 * skip: every run that has them installs PostgreSQL.
 */
export const REDIS_TESTS_RUN = REDIS_INSTALLED || isCi(process.env.CI);

function isCi(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/**
 * A throwaway redis-server; `stop()` kills it (as a crash would: it keeps
 * nothing anyway), `start()` starts it again on the same port and password,
 * empty, and `close()` kills it and removes its directory (safe to call twice).
 */
export interface RedisServer {
  /** redis://:<password>@127.0.0.1:<port>, as BERTH_REDIS_URL. */
  readonly url: string;
  readonly password: string;
  readonly port: number;
  /** Whether it runs now. */
  readonly running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts Debian's redis-server as a throwaway server: no persistence (no RDB
 * snapshot, no append-only file), a password, listening on a private
 * loopback port chosen here and kept across `stop()`/`start()` so that a test
 * can restart Redis under berths that hold its URL. Its directory is in a
 * temporary directory; the process is killed by `close()`, and by an exit
 * hook should the test's process end first. A later run kills the server of
 * a test process that died without its hook (SIGKILL). `password` replaces
 * the random one (which has no character that a URL encodes), for a test of
 * how a password is written in BERTH_REDIS_URL; the URL encodes it.
 *
 * @example
 *   const redis = await startRedisServer();
 *   const server = await startTestServer({ BERTH_REDIS_URL: redis.url });
 *   await redis.stop(); // … berth serves its own clients only
 *   await redis.start(); // … and fans out again
 *   await redis.close();
 */
export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  if (!REDIS_INSTALLED)
    throw new Error(`no ${REDIS_SERVER}: scripts/setup.mjs --with-redis installs Debian's redis-server`);
  removeOrphans();
  const dir = await mkdtemp(join(tmpdir(), PREFIX));
  await writeFile(join(dir, "started-by"), String(process.pid));
  const password = options.password ?? randomBytes(18).toString("base64url");
  const port = await freeLoopbackPort();
  let child: ChildProcess | undefined;
  const killNow = () => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", killNow);

  async function start(): Promise<void> {
    if (child) return;
    // The password is given on the command line: a throwaway server on a machine the test owns.
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--requirepass",
      password,
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--pidfile",
      join(dir, "redis.pid"),
      "--daemonize",
      "no",
      "--logfile",
      "",
    ];
    const started = spawn(REDIS_SERVER, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    await new Promise<void>((resolve, reject) => {
      let output = "";
      const timer = setTimeout(
        () => fail(new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        started.kill("SIGKILL");
        reject(new Error(`${err.message}\n${output}`));
      };
      started.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(READY)) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.stderr?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      started.once("error", fail);
      started.once("exit", (code) => fail(new Error(`redis-server exited with ${code} before it was ready`)));
    });
    // Read on: a pipe nobody reads would fill and stall the server.
    started.stdout?.resume();
    started.stderr?.resume();
  }

  async function stop(): Promise<void> {
    const running = child;
    if (!running) return;
    child = undefined;
    if (running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGKILL");
      await exited;
    }
  }

  try {
    await start();
  } catch (err) {
    killNow();
    process.off("exit", killNow);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    password,
    port,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    close(): Promise<void> {
      closing ??= (async () => {
        await stop();
        await rm(dir, { recursive: true, force: true });
        process.off("exit", killNow);
      })();
      return closing;
    },
  };
}

/**
 * A port on 127.0.0.1 that nothing listens on now, below the kernel's ephemeral range. The server lets it
 * go while stopped (stop() and start() keep it), and a port in that range could meanwhile become the local
 * port of any outgoing connection on the machine (a full test run makes thousands), or of a client's own
 * try to reach it (TCP's self-connect): the restart would then fail with EADDRINUSE. The kernel never
 * hands out a port outside the range on its own.
 */
async function freeLoopbackPort(): Promise<number> {
  const [low] = ephemeralPorts();
  for (let tries = 0; low > LOWEST_PORT + 1 && tries < 50; tries++) {
    const port = randomInt(LOWEST_PORT, low);
    if ((await listenOnce(port)) !== undefined) return port;
  }
  // No room below the range (an unusual set-up): the kernel's choice.
  const port = await listenOnce(0);
  if (port === undefined) throw new Error("no loopback port");
  return port;
}

/** Above the ports that services on a developer's machine commonly take. */
const LOWEST_PORT = 10_000;

/** The kernel's range of ports for outgoing connections and listen(0). */
function ephemeralPorts(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high) return [low, high];
  } catch {
    // not Linux: its default
  }
  return [32_768, 60_999];
}

/** Listens on `port` of 127.0.0.1 and lets go at once: the port it got, or undefined when it is taken. */
async function listenOnce(port: number): Promise<number | undefined> {
  const probe = createServer();
  const got = await new Promise<boolean>((resolve) => {
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (!got) return undefined;
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return address !== null && typeof address !== "string" ? address.port : undefined;
}

/** Kills the servers of test processes that are gone (killed before their exit hook ran), and removes their directories. */
function removeOrphans(): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(PREFIX))) {
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, "started-by"), "utf8"));
    } catch {
      continue; // still being made, or not one of ours
    }
    if (isAlive(owner)) continue;
    try {
      const pid = Number(readFileSync(join(dir, "redis.pid"), "utf8"));
      // A pid file left by a killed server may name a process that reuses its number since.
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "redis-server") process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
