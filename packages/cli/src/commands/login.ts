import { connect } from "@berth/client";
import type { Command } from "commander";
import { usageError } from "../cli-error.ts";
import { contextOf } from "../command-context.ts";
import { configFilePath, writeSavedLogin } from "../config-file.ts";

/** `berth login URL --token T`: checks the token against berth, then saves both for later commands. */
export function registerLogin(program: Command): void {
  const cmd = program
    .command("login")
    .description("check a token against a berth and save both for later commands")
    .argument("<url>", "where berth listens, e.g. http://127.0.0.1:7300");
  cmd.addHelpText(
    "after",
    `
The token is the global --token (or BERTH_TOKEN). It is saved in
$XDG_CONFIG_HOME/berth/config.json (default ~/.config/berth/config.json),
readable by you only; flags and BERTH_URL/BERTH_TOKEN still take precedence.

Example:
  $ berth login http://127.0.0.1:7300 --token "$MY_TOKEN"`,
  );
  cmd.action(async (url: string, _opts: object, command: Command) => {
    const { flags, out } = contextOf<object>(command);
    const token = flags.token ?? (process.env.BERTH_TOKEN || undefined);
    if (token === undefined) throw usageError("berth login needs a token: berth login URL --token T");
    if (!/^https?:\/\/./.test(url))
      throw usageError(`URL must start with http:// or https:// (got '${url}')`);
    // Refused tokens and unreachable servers end here, before anything is saved.
    const client = await connect(url, { token, reconnect: false });
    const version = client.info.version;
    await client.close();
    const path = configFilePath();
    await writeSavedLogin({ url, token }, path);
    out.line(`Logged in to ${url} (berth ${version}); saved to ${path}`);
  });
}
