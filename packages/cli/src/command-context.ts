import type { BerthClient } from "@berth/client";
import type { Command } from "commander";
import { type ConnectionFlags, withClient } from "./connection.ts";
import { Output } from "./output/output.ts";

/** The flags every command may see: the global ones and `--json`. */
export interface CommonFlags extends ConnectionFlags {
  json?: boolean;
}

/** What a command's action works with: its flags (its own and the global ones) and where to write. */
export interface CommandContext<F> {
  flags: F & CommonFlags;
  out: Output;
  /** Connects to berth for the length of `use` (see withClient). */
  client<T>(use: (client: BerthClient) => Promise<T>, options?: { longLived?: boolean }): Promise<T>;
}

/** The context of the command commander is running (`cmd` is the last argument of every action). */
export function contextOf<F>(cmd: Command): CommandContext<F> {
  const flags = cmd.optsWithGlobals<F & CommonFlags>();
  const out = Output.forProcess(flags);
  return {
    flags,
    out,
    client: (use, options) => withClient(flags, use, options),
  };
}

/** `--json` with the same words on every command that has it. */
export function addJsonOption(cmd: Command, what = "the result as one JSON document"): Command {
  return cmd.option("--json", `print ${what} (for scripts)`);
}
