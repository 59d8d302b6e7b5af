import { readFileSync } from "node:fs";
import { CommanderError } from "commander";
import { EXIT } from "./cli-error.ts";
import { Output } from "./output/output.ts";
import { printError } from "./output/print-error.ts";
import { buildProgram } from "./program.ts";

/** The CLI's version: its package.json sits one folder above both src/ and lib/. */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Runs one command line (`argv` as process.argv has it) and answers its exit
 * code: 0 done, 1 the operation failed (the error printed), 2 bad usage
 * (commander's message printed, with a suggestion after a typo).
 *
 * @example process.exitCode = await runCli(process.argv);
 */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram(cliVersion());
  try {
    await program.parseAsync(argv);
    // A command that failed part-way (one of several names) or `serve` (its child's code) set it.
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message already; help (asked for, or shown for a bare `berth`) and the version are not failures.
      const shown = ["commander.helpDisplayed", "commander.help", "commander.version"].includes(err.code);
      return shown || err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    // Commander is done with the flags by now, but an error can come before it was: `--json` anywhere
    // means a script is reading, so no colour in the error either.
    return printError(Output.forProcess({ json: argv.includes("--json") }), err);
  }
}
