import { type BerthClient, connect } from "@berth/client";
import { usageError } from "./cli-error.ts";
import { configFilePath, readSavedLogin } from "./config-file.ts";

/** Where berth listens unless told otherwise (its DEFAULT_HOST and DEFAULT_PORT). */
export const DEFAULT_URL = "http://127.0.0.1:7300";

/** The global flags every command that talks to berth takes. */
export interface ConnectionFlags {
  url?: string | undefined;
  token?: string | undefined;
}

export interface Target {
  url: string;
  token: string;
}

/**
 * The server and token for this run: flags first, then `BERTH_URL` /
 * `BERTH_TOKEN`, then the file `berth login` wrote, then the default URL.
 * Without a token anywhere it is a usage error that says the three ways to
 * give one.
 *
 * @example const { url, token } = await resolveTarget({ url: "http://127.0.0.1:7300" });
 */
export async function resolveTarget(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Target> {
  const nonEmpty = (v: string | undefined) => (v !== undefined && v !== "" ? v : undefined);
  let url = nonEmpty(flags.url) ?? nonEmpty(env.BERTH_URL);
  let token = nonEmpty(flags.token) ?? nonEmpty(env.BERTH_TOKEN);
  if (url === undefined || token === undefined) {
    const saved = await readSavedLogin(configFilePath(env));
    url ??= saved?.url;
    token ??= saved?.token;
  }
  if (token === undefined) {
    throw usageError(
      "no token: pass --token T, set BERTH_TOKEN, or save one with `berth login URL --token-stdin`",
    );
  }
  return { url: url ?? DEFAULT_URL, token };
}

/**
 * Connects to the berth of this run and hands the client to `use`, closing
 * it whatever `use` does — so a command never leaves a socket that keeps
 * the process alive.
 *
 * @example await withClient(flags, async (berth) => (await berth.containers.get("web")).status());
 */
export async function withClient<T>(
  flags: ConnectionFlags,
  use: (client: BerthClient) => Promise<T>,
  options: { longLived?: boolean | undefined } = {},
): Promise<T> {
  const { url, token } = await resolveTarget(flags);
  // A one-shot command is one short conversation: a drop ends it with an error. A command that
  // follows a stream (`logs -f`, `stats -w`, `activity -f`) rides out a drop; the SDK resumes it.
  const client = await connect(url, { token, reconnect: options.longLived === true });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}
