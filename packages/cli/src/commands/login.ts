import { connect } from "@berth/client";
import type { Command } from "commander";
import { usageError } from "../cli-error.ts";
import { contextOf } from "../command-context.ts";
import { configFilePath, writeSavedLogin } from "../config-file.ts";
import { readStdin } from "../read-stdin.ts";

interface LoginFlags {
  tokenStdin?: boolean;
}

/** `berth login URL --token-stdin`: checks the token against berth, then saves both for later commands. */
export function registerLogin(program: Command): void {
  const cmd = program
    .command("login")
    .description("check a token against a berth and save both for later commands")
    .argument("<url>", "where berth listens, e.g. http://127.0.0.1:7300")
    .option(
      "--token-stdin",
      "read the token from standard input (keeps it out of ps and your shell's history)",
    );
  cmd.addHelpText(
    "after",
    `
The token comes from standard input with --token-stdin, else the global
--token or BERTH_TOKEN (a --token on the command line shows in ps and in
your shell's history). It is saved in
$XDG_CONFIG_HOME/berth/config.json (default ~/.config/berth/config.json),
readable by you only; flags and BERTH_URL/BERTH_TOKEN still take precedence.

Examples:
  $ berth login http://127.0.0.1:7300 --token-stdin < ~/berth-token
  $ printf %s "$MY_TOKEN" | berth login http://127.0.0.1:7300 --token-stdin`,
  );
  cmd.action(async (url: string, _opts: LoginFlags, command: Command) => {
    const { flags, out } = contextOf<LoginFlags>(command);
    if (flags.tokenStdin && flags.token !== undefined)
      throw usageError("give the token one way: --token-stdin or --token, not both");
    // The newline that `echo` or a file ends with is not part of the token.
    const token = flags.tokenStdin
      ? (await readStdin()).trim() || undefined
      : (flags.token ?? (process.env.BERTH_TOKEN || undefined));
    if (token === undefined) {
      throw usageError(
        flags.tokenStdin
          ? "--token-stdin read nothing: pipe the token in, e.g. berth login URL --token-stdin < token-file"
          : "berth login needs a token: berth login URL --token-stdin < token-file (or BERTH_TOKEN)",
      );
    }
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
