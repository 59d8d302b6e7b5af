import { Command } from "commander";
import { registerActivity } from "./commands/activity.ts";
import { registerCreate } from "./commands/create.ts";
import { registerImage } from "./commands/image.ts";
import { registerInfo } from "./commands/info.ts";
import { registerLifecycle } from "./commands/lifecycle.ts";
import { registerLogin } from "./commands/login.ts";
import { registerLogs } from "./commands/logs.ts";
import { registerLs } from "./commands/ls.ts";
import { registerMessages } from "./commands/messages.ts";
import { registerReleases } from "./commands/releases.ts";
import { registerRollback } from "./commands/rollback.ts";
import { registerServe } from "./commands/serve.ts";
import { registerStats } from "./commands/stats.ts";
import { registerStatus } from "./commands/status.ts";
import { registerUpdate } from "./commands/update.ts";

/**
 * The whole `berth` command line: global flags, then one registration per
 * command. Commander throws instead of exiting (`exitOverride`), so main.ts
 * decides every exit code; it suggests the nearest command or flag after a
 * typo, and every subcommand inherits both settings.
 *
 * @example await buildProgram("0.1.0").parseAsync(["node", "berth", "ls"]);
 */
export function buildProgram(version: string): Command {
  const program = new Command("berth")
    .description("Run and drive workloads on a berth server")
    .version(version, "-V, --version", "print the CLI's version")
    .option("--url <url>", "berth's address (default: $BERTH_URL, the saved login, or http://127.0.0.1:7300)")
    .option(
      "--token <token>",
      "the token to connect with (default: $BERTH_TOKEN or the saved login; prefer those: a flag shows in ps)",
    )
    .showSuggestionAfterError(true)
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  program.addHelpText(
    "after",
    `
Examples:
  $ berth login http://127.0.0.1:7300 --token-stdin < ~/berth-token
  $ berth create web --code ./app
  $ berth create py-bot --runtime python --code ./bot
  $ berth ls
  $ berth request web '{"ping": 1}'
  $ berth logs web -f
  $ berth image check acme/bot:1 --code ./bot   # as the admin

Exit status: 0 done, 1 the operation failed, 2 bad usage.`,
  );
  registerServe(program);
  registerLogin(program);
  registerLs(program);
  registerCreate(program);
  registerLifecycle(program);
  registerStatus(program);
  registerUpdate(program);
  registerRollback(program);
  registerReleases(program);
  registerMessages(program);
  registerLogs(program);
  registerStats(program);
  registerActivity(program);
  registerImage(program);
  registerInfo(program);
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError("(add --help for usage)");
  return program;
}
