#!/usr/bin/env node
// berth's set-up: makes a fresh Debian machine ready for `npm start` and `npm test`.
//
// It runs on whatever Node.js the machine has (20 or later), so it is plain
// JavaScript with no dependencies. Each step checks first and acts only when
// something is missing, so a second run is fast and changes nothing:
//   1. npm dependencies (which bring the Node.js 24 binary berth runs on);
//   2. a Docker engine that answers: installed from Debian's docker.io when
//      absent, started (detached, in its own session) when installed but stopped;
//   3. the runtime images berth/runtime-node:24 and berth/runtime-python:3.11,
//      built offline from Debian packages (scripts/images/);
//   4. the compiled packages (@berth/client, the CLI), rebuilt only when their sources changed;
//   5. the web dashboard (packages/dashboard/dist), built with Vite on Node.js 24 when its sources
//      or the client's changed;
//   6. with --with-browser (npm test, npm run bench): Debian's Chromium (/usr/bin/chromium),
//      which the browser tests and the dashboard's benchmark drive, when missing;
//   7. with --with-postgres (npm test): Debian's PostgreSQL binaries, which the tests of the
//      PostgreSQL store run as throwaway servers of their own, when missing; Debian's own cluster
//      is neither created nor left running;
//   8. with --with-redis (npm test, npm run test:postgres: the tests of fan-out across API servers): Debian's redis-server, which
//      those tests run as throwaway servers of their own, when missing; Debian's own service is
//      stopped and not started at boot.
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statfsSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildDashboard } from "./build-dashboard.mjs";
import { buildPackages } from "./build-packages.mjs";
import { buildImages, staleRecipes } from "./images/build-image.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dockerSocket = process.env.DOCKER_HOST?.startsWith("unix://")
  ? process.env.DOCKER_HOST.slice("unix://".length)
  : "/var/run/docker.sock";
const dockerdLog = process.env.BERTH_DOCKERD_LOG ?? "/var/log/berth-dockerd.log";
const isRoot = process.getuid?.() === 0;

class SetupError extends Error {
  constructor(what, todo) {
    super(`${what}\n  → ${todo}`);
  }
}

function say(message) {
  process.stderr.write(`berth setup: ${message}\n`);
}

function checkDisk(dir, needBytes, purpose) {
  let free;
  try {
    const s = statfsSync(dir);
    free = s.bavail * s.bsize;
  } catch {
    return;
  }
  if (free < needBytes) {
    throw new SetupError(
      `not enough free disk space in ${dir} for ${purpose} (${Math.round(free / 2 ** 20)} MiB free, about ${Math.round(needBytes / 2 ** 20)} MiB needed)`,
      "free some disk space, then run the command again",
    );
  }
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

// ---------- 1. npm dependencies ----------
function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

function ensureDependencies() {
  const marker = join(root, "node_modules", ".package-lock.json");
  const node24 = join(root, "node_modules", "node", "bin", "node");
  const lock = join(root, "package-lock.json");
  const upToDate =
    existsSync(node24) && mtime(marker) >= mtime(lock) && mtime(marker) >= mtime(join(root, "package.json"));
  if (upToDate) return;
  checkDisk(root, 600 * 2 ** 20, "npm dependencies");
  say("installing npm dependencies (on the first run, and after they change)");
  const args = existsSync(lock)
    ? ["ci", "--no-audit", "--no-fund", "--loglevel=error"]
    : ["install", "--no-audit", "--no-fund", "--loglevel=error"];
  if (run("npm", args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] }) !== 0) {
    throw new SetupError(
      "npm could not install berth's dependencies",
      "check that the npm registry is reachable and the disk is not full, then run the command again",
    );
  }
  if (!existsSync(node24)) {
    throw new SetupError(
      "the Node.js 24 binary (npm package 'node') is missing after npm install",
      "run `npm install-scripts approve node` (npm must be allowed to run its install script), then run the command again",
    );
  }
}

// ---------- 2. Docker engine ----------
function engineRequest(method, path, { body, timeoutMs = 3000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        socketPath: dockerSocket,
        path,
        method,
        headers: body ? { "content-type": "application/x-tar" } : {},
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () =>
          resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

async function enginePing() {
  try {
    const r = await engineRequest("GET", "/_ping", { timeoutMs: 2000 });
    return r.status === 200;
  } catch {
    return false;
  }
}

function findDockerd() {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin", "/sbin"])) {
    const p = join(dir, "dockerd");
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

function installDocker() {
  aptInstall(
    "docker.io",
    "a Docker engine",
    "install and start a Docker engine (API 1.41 or later), then run the command again",
  );
}

/**
 * Installs one Debian package as root with apt-get, or says what to do
 * instead: `what` names what is missing, `otherwise` what a user without apt
 * or root does about it.
 */
function aptInstall(pkg, what, otherwise) {
  if (!isRoot) {
    throw new SetupError(
      `${what} is not installed, and installing it needs root`,
      `run the command as root, or install it yourself (Debian: \`sudo apt-get install ${pkg}\`)`,
    );
  }
  if (!existsSync("/usr/bin/apt-get")) {
    throw new SetupError(
      `${what} is not installed, and this is not a Debian-like system with apt-get`,
      otherwise,
    );
  }
  checkDisk("/var/lib", 1024 * 2 ** 20, what);
  say(`installing ${what} from Debian's ${pkg} (first run only)`);
  const log = join(tmpdir(), "berth-apt.log");
  const fd = openSync(log, "w");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const opts = { env, stdio: ["ignore", fd, fd] };
  if (
    run("apt-get", ["update"], opts) !== 0 ||
    run("apt-get", ["install", "-y", "--no-install-recommends", pkg], opts) !== 0
  ) {
    throw new SetupError(
      `apt-get could not install ${pkg} (its output is in ${log})`,
      "check that Debian's package mirrors are reachable and the disk is not full",
    );
  }
}

async function startDockerd(dockerd) {
  if (!isRoot) {
    throw new SetupError(
      "the Docker engine is installed but not running, and starting it needs root",
      "start it yourself (e.g. `sudo dockerd &` or `sudo service docker start`), or run the command as root",
    );
  }
  say(`starting the Docker engine (log: ${dockerdLog})`);
  mkdirSync(dirname(dockerdLog), { recursive: true });
  const out = openSync(dockerdLog, "a");
  // Its own session (detached → setsid), no stdin, output to a file: a Ctrl-C
  // or the end of the calling npm script does not take the engine down, and it
  // never holds the caller's stdout open.
  const child = spawn(dockerd, [], { detached: true, stdio: ["ignore", out, out] });
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  child.unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited) {
    if (await enginePing()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = readFileSync(dockerdLog, "utf8").split("\n").slice(-15).join("\n");
  throw new SetupError(
    `the Docker engine did not come up ${exited ? "(dockerd exited)" : "within 60 s"}; the end of ${dockerdLog}:\n${tail}`,
    "fix what the log says, then run the command again",
  );
}

async function ensureEngine() {
  if (await enginePing()) return;
  if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith("unix://")) {
    throw new SetupError(
      `the Docker engine at DOCKER_HOST=${process.env.DOCKER_HOST} does not answer`,
      "start that engine, or unset DOCKER_HOST to let berth manage a local one",
    );
  }
  let dockerd = findDockerd();
  if (!dockerd) {
    installDocker();
    dockerd = findDockerd();
    if (!dockerd)
      throw new SetupError(
        "docker.io was installed but dockerd is not on the PATH",
        "check the installation",
      );
  }
  await startDockerd(dockerd);
}

// ---------- 3. the runtime images ----------
/**
 * berth's runtime images (a recipe.json under images/ for each), built offline from Debian
 * packages with mmdebstrap when missing or built from an older recipe; a
 * second run costs one inspect per image.
 */
async function ensureImages() {
  const stale = await staleRecipes(engineRequest);
  if (stale.length === 0) return;
  if (!existsSync("/usr/bin/mmdebstrap")) {
    aptInstall(
      "mmdebstrap",
      "mmdebstrap (which builds berth's runtime images from Debian packages)",
      "build the images from the Dockerfiles beside their recipes in images/ (see docs/images.md), then run the command again",
    );
  }
  checkDisk(tmpdir(), 1024 * 2 ** 20, "building the runtime images");
  await buildImages(stale, { engineRequest, log: say });
}

// ---------- 6. Chromium for the browser tests ----------
/** The browser tests drive Debian's Chromium with playwright-core, which downloads no browser of its own. */
function ensureChromium() {
  if (existsSync("/usr/bin/chromium")) return;
  aptInstall(
    "chromium",
    "Chromium (which berth's browser tests drive)",
    "install Chromium at /usr/bin/chromium, then run the command again",
  );
}

// ---------- 7. PostgreSQL for the store's tests ----------
/** Whether some version of Debian's PostgreSQL server binaries is installed (/usr/lib/postgresql/<v>/bin). */
function postgresInstalled() {
  const base = "/usr/lib/postgresql";
  return existsSync(base) && readdirSync(base).some((v) => existsSync(join(base, v, "bin", "initdb")));
}

/**
 * The tests start PostgreSQL themselves (test/helpers/postgres-server.ts): a
 * throwaway cluster per run, as a non-root user, on a socket in a temporary
 * directory. Only the binaries are needed. Debian's package would also make
 * and start a cluster of its own ("main", on port 5432) — a server nobody
 * asked for — so a createcluster.d drop-in tells postgresql-common not to make it,
 * and one made anyway (an older postgresql-common) is stopped and set to
 * start by hand only.
 */
function ensurePostgres() {
  if (postgresInstalled()) return;
  // A drop-in (createcluster.conf includes createcluster.d/), not an edit of the package's own
  // conffile, which dpkg would then ask about.
  if (isRoot) {
    const dropIn = "/etc/postgresql-common/createcluster.d/berth.conf";
    mkdirSync(dirname(dropIn), { recursive: true });
    writeFileSync(
      dropIn,
      "# berth: the tests start throwaway clusters of their own\ncreate_main_cluster = false\n",
    );
  }
  aptInstall(
    "postgresql",
    "PostgreSQL (which the tests of berth's PostgreSQL store start)",
    "install PostgreSQL's server binaries (initdb, pg_ctl, postgres), then run the command again",
  );
  const clusters = "/etc/postgresql";
  if (!existsSync(clusters)) return;
  for (const version of readdirSync(clusters, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const main = join(clusters, version.name, "main");
    if (!existsSync(main)) continue;
    spawnSync("pg_ctlcluster", [version.name, "main", "stop"], { stdio: "ignore" });
    writeFileSync(join(main, "start.conf"), "manual\n");
    say(`stopped Debian's PostgreSQL cluster ${version.name}/main, and set it to start by hand only`);
  }
}

// ---------- 8. Redis for the fan-out's tests ----------
/**
 * The tests start redis-server themselves (test/helpers/redis-server.ts): a
 * throwaway server per test, without persistence, on a loopback port in a
 * temporary directory. Only the binary is needed. Debian's package also
 * starts a server of its own (on port 6379, saving to /var/lib/redis) where
 * its service may start — a server nobody asked for — so it is stopped and
 * set not to start at boot.
 */
function ensureRedis() {
  if (existsSync("/usr/bin/redis-server")) return;
  aptInstall(
    "redis-server",
    "Redis (which the tests of fan-out across berth API servers start)",
    "install redis-server (Debian's package, or Redis 6.2 or later on the PATH at /usr/bin/redis-server), then run the command again",
  );
  // Where there is systemd, it started the service; elsewhere invoke-rc.d did, unless a policy-rc.d refused.
  spawnSync("systemctl", ["disable", "--now", "redis-server"], { stdio: "ignore" });
  spawnSync("service", ["redis-server", "stop"], { stdio: "ignore" });
  spawnSync("update-rc.d", ["redis-server", "disable"], { stdio: "ignore" });
  say("stopped Debian's redis-server service, and set it not to start at boot");
}

try {
  ensureDependencies();
  await ensureEngine();
  await ensureImages();
  // The server runs from source, but `npx berth` and the client's package do not: a build that fails stops here, loudly.
  const built = buildPackages({ log: say });
  if (built.length > 0) say(`compiled ${built.join(", ")}`);
  try {
    if (buildDashboard({ log: say })) say("built the dashboard");
  } catch (err) {
    throw new SetupError(
      `the dashboard did not build: ${err.message}`,
      "fix what it says, then run the command again",
    );
  }
  // Only where a browser is driven (npm test, npm run bench): `npm start` needs none.
  if (process.argv.includes("--with-browser")) ensureChromium();
  if (process.argv.includes("--with-postgres")) ensurePostgres();
  if (process.argv.includes("--with-redis")) ensureRedis();
} catch (err) {
  say(err instanceof SetupError ? err.message : `failed: ${err?.stack ?? err}`);
  process.exit(1);
}
