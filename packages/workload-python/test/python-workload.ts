import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** packages/workload-python, the folder that holds the `berth_workload` package. */
export const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

/**
 * A Python workload script (test/fixtures/<script>) run by the host's
 * `python3` with `berth_workload` on its PYTHONPATH. Its stdout lines are kept
 * and can be awaited; `stop()` kills it if it still runs and waits for its exit.
 */
export class PythonWorkload {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = "";
  /** The exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  #waiters: Array<{ match: RegExp; resolve: (line: string) => void }> = [];
  #partial = "";

  constructor(script: string, socketPath: string, env: Record<string, string> = {}) {
    this.child = spawn("python3", [fileURLToPath(new URL(`fixtures/${script}`, import.meta.url))], {
      env: {
        ...process.env,
        ...env,
        BERTH_SOCKET: socketPath,
        PYTHONPATH: PACKAGE_DIR,
        PYTHONUNBUFFERED: "1",
        PYTHONDONTWRITEBYTECODE: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve, reject) => {
      this.child.once("error", reject);
      this.child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    });
    this.child.stdout?.setEncoding("utf8").on("data", (text: string) => this.#take(text));
    this.child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.stderr += text;
    });
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
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
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
