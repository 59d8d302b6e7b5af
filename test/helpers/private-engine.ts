import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, createReadStream, createWriteStream, existsSync, openSync } from "node:fs";
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import Dockerode from "dockerode";
import { unmountAllUnder } from "./mounts.ts";
import { docker as sharedDocker } from "./test-server.ts";

/**
 * A second Docker engine beside the shared one, for tests that take the
 * engine away: stopping it leaves the shared engine and every other test's
 * containers alone. It keeps its own data, exec root, socket and pid file
 * under one short temporary directory (a Unix socket path has at most 107
 * bytes), has no bridge and touches no iptables, and gets its images from
 * the shared engine by `save | load`.
 *
 * @example
 *   const engine = await startPrivateEngine();
 *   try { await engine.stop(); … await engine.start(); } finally { await engine.destroy(); }
 */
export interface PrivateEngine {
  /** The engine's Unix socket, e.g. for BERTH_DOCKER_SOCKET. */
  readonly socketPath: string;
  /** A client of this engine (not of the shared one). */
  readonly docker: Dockerode;
  /** Whether this engine's dockerd process is alive. */
  readonly running: boolean;
  /** Starts dockerd again on the same roots (containers and images survive) and waits until it answers. */
  start(): Promise<void>;
  /** SIGTERM, then waits until dockerd has exited; without live-restore it stops its containers first. */
  stop(): Promise<void>;
  /**
   * SIGKILL to dockerd alone, then waits until it has exited: it stops
   * nothing on its way out. Its containerd and the shims live on; started
   * again, dockerd reattaches to them (live-restore) or stops what still runs.
   */
  kill(): Promise<void>;
  /** Stops it, ends anything it left running, unmounts what it left mounted and removes its roots. Safe to call twice. */
  destroy(): Promise<void>;
  /**
   * Makes the engine fail (500) to remove this container, as it does when a
   * layer cannot be deleted: an immutable file in its writable layer. Resolves
   * with the function that lets it go again (destroy() lets go of all).
   */
  refuseRemoval(containerId: string): Promise<() => Promise<void>>;
  /** The last lines dockerd logged, for failure messages. */
  logTail(lines?: number): Promise<string>;
}

export interface PrivateEngineOptions {
  /** Images copied from the shared engine (default: berth's runtime image). */
  images?: readonly string[];
  /** dockerd's `--live-restore`: its containers keep running while it is stopped or restarted. */
  liveRestore?: boolean;
}

const run = promisify(execFile);
const ANSWER_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 60_000;

export async function startPrivateEngine(options: PrivateEngineOptions = {}): Promise<PrivateEngine> {
  const engine = new DockerdProcess(await mkdtemp(join(tmpdir(), "pe-")), options.liveRestore === true);
  try {
    await engine.start();
    for (const image of options.images ?? ["berth/runtime-node:24"]) await engine.loadImage(image);
  } catch (err) {
    const log = await engine.logTail();
    await engine.destroy();
    throw new Error(`the private engine did not come up: ${(err as Error).message}\n${log}`, { cause: err });
  }
  return engine;
}

class DockerdProcess implements PrivateEngine {
  readonly #root: string;
  readonly socketPath: string;
  readonly docker: Dockerode;
  #child: ChildProcess | undefined;
  #exited: Promise<unknown> | undefined;
  #destroyed = false;
  // If the test process ends without destroy() (a crash, a killed worker), dockerd must not outlive it.
  readonly #onExit = () => this.#child?.kill("SIGTERM");
  readonly #pinned = new Set<string>();
  readonly #liveRestore: boolean;

  constructor(root: string, liveRestore: boolean) {
    this.#root = root;
    this.#liveRestore = liveRestore;
    this.socketPath = join(root, "d.sock");
    this.docker = new Dockerode({ socketPath: this.socketPath, timeout: 10_000 });
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.#destroyed) throw new Error("the private engine was destroyed");
    if (this.running) return;
    const root = this.#root;
    // An empty config file: the shared engine's /etc/docker/daemon.json (hosts, pidfile, …) must not apply here.
    await writeFile(join(root, "daemon.json"), "{}\n");
    const logFd = openSync(join(root, "dockerd.log"), "a");
    try {
      // Detached: its own session, so a Ctrl-C of the test run does not reach it before stop() does.
      // Its own network namespace: an engine started with --bridge=none in the
      // host's namespace tears down the shared engine's docker0 bridge.
      // (nsenter, not `ip netns exec`, which remounts /sys and hides the cgroups.)
      await this.#ensureNetns();
      this.#child = spawn(
        "nsenter",
        [
          `--net=/var/run/netns/${this.#netns}`,
          "dockerd",
          `--config-file=${join(root, "daemon.json")}`,
          `--data-root=${join(root, "d")}`,
          `--exec-root=${join(root, "x")}`,
          `--pidfile=${join(root, "dockerd.pid")}`,
          `--host=unix://${this.socketPath}`,
          "--bridge=none",
          "--iptables=false",
          "--ip-forward=false",
          "--ip-masq=false",
          "--userland-proxy=false",
          ...(this.#liveRestore ? ["--live-restore"] : []),
        ],
        { detached: true, stdio: ["ignore", logFd, logFd] },
      );
    } finally {
      closeSync(logFd);
    }
    const child = this.#child;
    this.#exited = once(child, "exit").catch(() => undefined);
    child.unref();
    process.once("exit", this.#onExit);
    await this.#waitUntilAnswering(child);
  }

  async #waitUntilAnswering(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    let spawnError: Error | undefined;
    child.once("error", (err) => {
      spawnError = err;
    });
    for (;;) {
      if (spawnError) throw spawnError;
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}) before it answered`);
      }
      try {
        await this.docker.ping();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`dockerd did not answer within ${ANSWER_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  stop(): Promise<void> {
    return this.#end("SIGTERM");
  }

  async kill(): Promise<void> {
    await this.#end("SIGKILL");
    await this.#forgetDeadContainerd();
  }

  /**
   * dockerd's containerd dies with it (parent-death signal), but here nobody
   * may reap it: a zombie whose pid is still in containerd.pid makes the next
   * dockerd take it for a live containerd, and wait for it in vain. On a host
   * whose init reaps, the pid would be gone; the file goes, as it would there.
   */
  async #forgetDeadContainerd(): Promise<void> {
    const pidFile = join(this.#root, "x", "containerd", "containerd.pid");
    const pid = (await readFile(pidFile, "utf8").catch(() => "")).trim();
    if (!/^\d+$/.test(pid)) return;
    const deadline = Date.now() + EXIT_TIMEOUT_MS;
    for (;;) {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
      // The state is the field after the command name in parentheses.
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      if (stat === "" || state === "Z" || state === "X") break;
      if (Date.now() > deadline) throw new Error(`containerd ${pid} outlived its dockerd`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await rm(pidFile, { force: true });
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (!child) return;
    if (this.running) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    process.off("exit", this.#onExit);
    this.#child = undefined;
  }

  /** Copies an image from the shared engine, through a tar saved once per machine and image id. */
  async loadImage(image: string): Promise<void> {
    const tar = await savedImage(image);
    const progress = (await this.docker.loadImage(createReadStream(tar))) as NodeJS.ReadableStream;
    let text = "";
    for await (const chunk of progress) text += chunk.toString();
    if (/"error"/.test(text)) throw new Error(`could not load ${image}: ${text.slice(0, 500)}`);
    await this.docker.getImage(image).inspect();
  }

  async refuseRemoval(containerId: string): Promise<() => Promise<void>> {
    const info = await this.docker.getContainer(containerId).inspect();
    // The types know only devicemapper's fields; overlay2 (the driver here) reports UpperDir.
    const upper = (info.GraphDriver.Data as { UpperDir?: string } | undefined)?.UpperDir;
    if (!upper) throw new Error(`container ${containerId} has no writable layer on this engine`);
    const pin = join(upper, ".berth-test-pin");
    await writeFile(pin, "");
    await run("chattr", ["+i", pin]);
    this.#pinned.add(pin);
    return async () => {
      if (!this.#pinned.delete(pin)) return;
      await run("chattr", ["-i", pin]).catch(() => {});
    };
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const pin of this.#pinned) await run("chattr", ["-i", pin]).catch(() => {});
    this.#pinned.clear();
    await this.stop();
    await killLeftovers(this.#root);
    await unmountAllUnder(this.#root);
    await rm(this.#root, { recursive: true, force: true });
    if (this.#netnsMade) await run("ip", ["netns", "delete", this.#netns]).catch(() => {});
  }

  get #netns(): string {
    return `berth-${this.#root.split("/").pop()}`;
  }

  #netnsMade = false;

  async #ensureNetns(): Promise<void> {
    if (this.#netnsMade) return;
    await run("ip", ["netns", "add", this.#netns]);
    this.#netnsMade = true;
  }

  async logTail(lines = 30): Promise<string> {
    const text = await readFile(join(this.#root, "dockerd.log"), "utf8").catch(() => "");
    return text.split("\n").slice(-lines).join("\n");
  }
}

/** `docker save` of an image from the shared engine, cached under the temp dir by image id. */
async function savedImage(image: string): Promise<string> {
  const { Id } = await sharedDocker.getImage(image).inspect();
  const prefix = `berth-image-${image.replace(/[^A-Za-z0-9_.-]/g, "_")}-`;
  const file = join(tmpdir(), `${prefix}${Id.replace(/^sha256:/, "").slice(0, 16)}.tar`);
  if (existsSync(file)) return file;
  // Tars of earlier builds of this image are stale: at 100+ MB each, they are not left to pile up.
  for (const old of await readdir(tmpdir())) {
    if (old.startsWith(prefix) && old.endsWith(".tar")) await rm(join(tmpdir(), old), { force: true });
  }
  // Written aside and renamed, so that a concurrent test process never reads half a tar.
  const partial = `${file}.${process.pid}.partial`;
  await pipeline(
    (await sharedDocker.getImage(image).get()) as NodeJS.ReadableStream,
    createWriteStream(partial),
  );
  await rename(partial, file);
  return file;
}

/**
 * Ends processes that still refer to this engine's roots once dockerd is
 * gone — its containerd and shims after a SIGKILL — by id, never by name.
 */
async function killLeftovers(root: string): Promise<void> {
  const pids = (await readdir("/proc")).filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  for (const pid of pids) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.includes(`${root}/`)) continue;
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
}
