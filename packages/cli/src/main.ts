#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { CommanderError } from "commander";
import { EXIT } from "./cli-error.ts";
import { Output } from "./output/output.ts";
import { printError } from "./output/print-error.ts";
import { buildProgram } from "./program.ts";

// The CLI's package.json sits one folder above both src/main.ts and lib/main.js.
const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** Runs one command line and answers the exit code (0 done, 1 failed, 2 bad usage). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(version);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message already; help and --version are successes.
      const ok = ["commander.helpDisplayed", "commander.help", "commander.version"].includes(err.code);
      return ok || err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    return printError(Output.forProcess({ json: false }), err);
  }
}

process.exitCode = await main(process.argv);
