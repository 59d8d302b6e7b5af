import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { findBerthCheckout } from "../berth-checkout.ts";
import { CliError, EXIT } from "../cli-error.ts";

interface ServeFlags {
  setup: boolean;
}

/**
 * `berth serve`: what `npm start` runs — the set-up script, then berth on the
 * project's own Node.js 24 with its `config.nodeFlags` — in the checkout this
 * CLI belongs to. Never imports server code: berth runs as a child process
 * that gets SIGINT, SIGTERM and SIGHUP (reload the tokens file) forwarded,
 * and its exit code is this one's.
 */
export function registerServe(program: Command): void {
  const cmd = program
    .command("serve")
    .description("run the berth server (what `npm start` runs), configured by BERTH_* variables")
    .option("--no-setup", "skip the set-up script (dependencies, Docker engine, runtime image)");
  cmd.addHelpText(
    "after",
    `
Needs a berth checkout: the CLI finds it from where it is installed.

Examples:
  $ berth serve
  $ BERTH_PORT=8080 BERTH_TOKENS=alice:a-long-token berth serve --no-setup`,
  );
  cmd.action(async (opts: ServeFlags) => {
    const checkout = findBerthCheckout(fileURLToPath(import.meta.url));
    if (!checkout) {
      throw new CliError(
        "berth serve needs a berth checkout, and this CLI is installed without one: clone berth and run `npx berth serve` (or `npm start`) there",
        EXIT.USAGE,
      );
    }
    if (opts.setup) {
      // Set-up runs on whatever Node.js runs this CLI (20 or later), as `npm start` runs it.
      const code = await run(process.execPath, [checkout.setupScript], checkout.root);
      if (code !== 0) {
        process.exitCode = code;
        return;
      }
    }
    process.exitCode = await run(checkout.node, [...checkout.nodeFlags, checkout.main], checkout.root);
  });
}

/** The signals passed on to the child: stop (SIGINT, SIGTERM) and berth's reload of its tokens file (SIGHUP). */
const FORWARDED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Runs a child with this terminal, forwards FORWARDED to it, and resolves with its exit code. */
function run(command: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: "inherit" });
    // On a terminal Ctrl-C reaches the child's process group as well; forwarding is for a `kill` of this
    // process. SIGHUP's default would end this wrapper and leave berth running without a parent.
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of FORWARDED) process.on(signal, forward);
    const done = () => {
      for (const signal of FORWARDED) process.off(signal, forward);
    };
    child.once("error", (err) => {
      done();
      reject(new CliError(`cannot run ${command}: ${err.message}`, EXIT.FAILED));
    });
    child.once("exit", (code, signal) => {
      done();
      resolve(code ?? (signal === "SIGINT" || signal === "SIGTERM" ? 0 : 1));
    });
  });
}
