import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** packages/workload-python, the folder that holds the `berth_workload` package. */
export const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
/** The image the SDK is tested in: berth's own, with `berth_workload` installed as workloads get it. */
export const PYTHON_IMAGE = "berth/runtime-python:3.11";
const FIXTURES_DIR = fileURLToPath(new URL("fixtures", import.meta.url));
/** Marks the containers these tests make, so that a test run's leftovers can be found. */
export const TEST_LABEL = "berth.test=python-sdk";

/**
 * The hardened `docker run` arguments for Python in berth's runtime image,
 * with `mounts` (host path → container path, read-only) and `env`. It runs as
 * uid 0 with every capability dropped: a berth container has its own uid, but
 * the test sockets here are root's, and the SDK is what is under test.
 */
export function dockerRunArgs(
  name: string,
  mounts: Record<string, string>,
  env: Record<string, string>,
): string[] {
  return [
    "run",
    "--rm",
    "--name",
    name,
    "--label",
    TEST_LABEL,
    "--init",
    "--read-only",
    "--tmpfs",
    "/tmp:rw,nosuid,nodev,size=64m,mode=1777",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "--network",
    "none",
    "--user",
    "0:0",
    ...Object.entries(mounts).flatMap(([from, to]) => ["-v", `${from}:${to}:ro`]),
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    PYTHON_IMAGE,
  ];
}

/**
 * A Python workload script (test/fixtures/<script>, or any absolute path) run in berth's Python
 * runtime image, with the directory of `socketPath` mounted as berth mounts a
 * container's socket directory. Its stdout lines are kept and can be awaited;
 * `signal()` sends the process a signal; `stop()` removes the container if it
 * still runs and waits for the end.
 */
export class PythonWorkload {
  readonly child: ChildProcess;
  readonly name = `berth-pytest-${randomUUID().slice(0, 8)}`;
  readonly lines: string[] = [];
  stderr = "";
  /** The exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  #waiters: Array<{ match: RegExp; resolve: (line: string) => void }> = [];
  #partial = "";
  #ended = false;

  constructor(script: string, socketPath: string, env: Record<string, string> = {}) {
    const file = script.startsWith("/") ? script : `${FIXTURES_DIR}/${script}`;
    const mounts = { [dirname(socketPath)]: "/run/berth", [dirname(file)]: "/fixtures" };
    const args = dockerRunArgs(this.name, mounts, {
      ...env,
      BERTH_SOCKET: `/run/berth/${basename(socketPath)}`,
    });
    this.child = spawn("docker", [...args, "python3", `/fixtures/${basename(file)}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve, reject) => {
      this.child.once("error", reject);
      this.child.once("exit", (code, signal) => {
        this.#ended = true;
        resolve(code ?? signal ?? "unknown");
      });
    });
    this.child.stdout?.setEncoding("utf8").on("data", (text: string) => this.#take(text));
    this.child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.stderr += text;
    });
  }

  /** Whether the workload still runs. */
  get running(): boolean {
    return !this.#ended;
  }

  /** Sends the workload's process a signal (through the engine, as `docker stop` would). */
  signal(signal: "SIGTERM" | "SIGINT"): void {
    spawnSync("docker", ["kill", "--signal", signal, this.name], { stdio: "ignore" });
  }

  /** The first stdout line (already printed or still to come) that matches. */
  line(match: RegExp): Promise<string> {
    const seen = this.lines.find((l) => match.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  /** Lines that match, counted so far. */
  count(match: RegExp): number {
    return this.lines.filter((l) => match.test(l)).length;
  }

  async stop(): Promise<void> {
    if (!this.#ended) spawnSync("docker", ["rm", "-f", this.name], { stdio: "ignore" });
    await this.exited.catch(() => {});
  }

  #take(text: string): void {
    const parts = (this.#partial + text).split("\n");
    this.#partial = parts.pop() ?? "";
    for (const line of parts) {
      this.lines.push(line);
      for (const w of this.#waiters.filter((w) => w.match.test(line))) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }
}
