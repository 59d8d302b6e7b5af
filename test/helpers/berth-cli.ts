import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { within } from "./deadline.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * How the tests run the `berth` executable: the compiled CLI, as `npx berth`
 * and a global install run it, on the project's Node.js 24 (a test of
 * cli-usage runs it on the machine's Node.js 20 too). The test run's global
 * set-up (test/helpers/global-setup.ts) compiled it when its sources or the
 * client's changed, once, before any test file: a test never runs a stale build.
 */
export const BERTH_COMMAND = [`${root}node_modules/.bin/node`, `${root}packages/cli/lib/main.js`] as const;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `berth` child: its output so far, a wait for a line, and its end. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout holds `text`, or fails after `ms` with what was printed. */
  waitForOutput(text: string, ms?: number): Promise<void>;
  exited: Promise<CliResult>;
}

/**
 * Starts `berth ARGS…` with exactly `env` (plus PATH and HOME, so nothing of the
 * test runner's own BERTH_* or XDG settings leaks in).
 */
export function startBerth(
  args: string[],
  env: Record<string, string>,
  input?: string,
  options: { terminal?: boolean } = {},
): CliProcess {
  const [node, main] = BERTH_COMMAND;
  // On a terminal: util-linux `script` gives the CLI a pty (stdout and stderr both go to it, so
  // all output arrives as stdout), sized like an ordinary terminal window.
  const quoted = berthShellCommand(args);
  const [command, argv] = options.terminal
    ? ["script", ["-qec", `stty cols 120 rows 40; ${quoted}`, "/dev/null"]]
    : [node, [main, ...args]];
  const child = spawn(command, argv, {
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
    for (const w of waiters) w();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  // A CLI that exits before it read its input closes the pipe: the EPIPE says nothing its exit code does not.
  child.stdin.on("error", () => {});
  child.stdin.end(input ?? "");
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForOutput(text, ms = 30_000) {
      const seen = new Promise<void>((resolve) => {
        const check = () => {
          if (!stdout.includes(text)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
      return within(
        ms,
        `berth ${args.join(" ")} printing '${text}' (stdout: ${stdout}, stderr: ${stderr})`,
        seen,
      );
    },
  };
}

/** Runs `berth ARGS…` to its end (failing after `ms`) and answers its exit code and output. */
export async function runBerth(
  args: string[],
  env: Record<string, string>,
  options: { input?: string; ms?: number; terminal?: boolean } = {},
): Promise<CliResult> {
  const p = startBerth(args, env, options.input, { terminal: options.terminal === true });
  try {
    return await within(options.ms ?? 90_000, `berth ${args.join(" ")}`, p.exited);
  } finally {
    if (p.child.exitCode === null) p.child.kill("SIGKILL");
  }
}

/** `berth ARGS…` quoted for a shell command line (for pipes). */
export function berthShellCommand(args: string[]): string {
  return [...BERTH_COMMAND, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
}

/** Runs a shell command line (with `berth` in a pipe, say) to its end and answers its exit code and output. */
export async function runShell(
  command: string,
  env: Record<string, string>,
  ms = 60_000,
): Promise<CliResult> {
  const child = spawn("sh", ["-c", command], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
  try {
    return await within(ms, command, exited);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}
