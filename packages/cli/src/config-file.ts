import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CliError, EXIT } from "./cli-error.ts";

/** What `berth login` saves: the server to talk to and the token to show it. */
export interface SavedLogin {
  url: string;
  token: string;
}

/**
 * `$XDG_CONFIG_HOME/berth/config.json` (default `~/.config/berth/config.json`),
 * as every XDG-aware tool places its settings.
 *
 * @example configFilePath({ XDG_CONFIG_HOME: "/tmp/x" }) // "/tmp/x/berth/config.json"
 */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(homedir(), ".config");
  return join(base, "berth", "config.json");
}

/** The saved login, or undefined when there is none; a file that does not parse is an error naming it. */
export async function readSavedLogin(path = configFilePath()): Promise<Partial<SavedLogin> | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, EXIT.FAILED);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null) throw new Error("not an object");
    const { url, token } = value as Record<string, unknown>;
    return {
      ...(typeof url === "string" ? { url } : {}),
      ...(typeof token === "string" ? { token } : {}),
    };
  } catch (err) {
    throw new CliError(
      `${path} is not valid JSON (${(err as Error).message}); run \`berth login URL --token-stdin\` again`,
      EXIT.FAILED,
    );
  }
}

/**
 * Saves a login readable by its owner only: the directory 0700, the file
 * 0600 — written to a temporary file with that mode and renamed over the
 * old one, so the token is never readable by others, not even for a moment.
 */
export async function writeSavedLogin(login: SavedLogin, path = configFilePath()): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing directory's mode alone; a config directory others can read is tightened.
  await chmod(dir, 0o700);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}
