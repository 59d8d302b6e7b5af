import { readFileSync } from "node:fs";
import { usageError } from "../cli-error.ts";

/**
 * One `--secret-env` of `berth create`, added to the map built so far.
 * `KEY` alone takes the value from the CLI's own environment, as `docker run
 * -e KEY` does, so that the value never shows in `ps` or the shell's
 * history; `KEY=VALUE` is still taken, for values that are not secret after
 * all. A value is never echoed back in an error.
 *
 * @example parseSecretEnv("API_KEY", {}, { API_KEY: "s3cr3t" }) // { API_KEY: "s3cr3t" }
 */
export function parseSecretEnv(
  text: string,
  previous: Record<string, string> = {},
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const eq = text.indexOf("=");
  if (eq === -1 && text !== "") return { ...previous, [text]: fromEnvironment(text, "--secret-env", env) };
  if (eq <= 0) {
    throw usageError(
      "--secret-env takes KEY (its value from this environment) or KEY=VALUE, e.g. --secret-env API_KEY (got '…')",
    );
  }
  return { ...previous, [text.slice(0, eq)]: text.slice(eq + 1) };
}

/**
 * One `--secret-env-file FILE`: its `KEY=VALUE` lines (as `docker run
 * --env-file` reads them: blank lines and lines starting with `#` skipped,
 * the value taken as is, `KEY` alone from this environment), added to the map
 * built so far. Errors name the file and the line number, never a line.
 *
 * @example parseSecretEnvFile("./secrets.env", {}) // { API_KEY: "…", DB_PASSWORD: "…" }
 */
export function parseSecretEnvFile(
  path: string,
  previous: Record<string, string> = {},
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw usageError(
      `cannot read --secret-env-file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const out = { ...previous };
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.replace(/\r$/, "").trimStart();
    if (line === "" || line.startsWith("#")) continue;
    const where = `--secret-env-file ${path}, line ${index + 1}`;
    const eq = line.indexOf("=");
    if (eq === 0) throw usageError(`${where}: expected KEY=VALUE or KEY, and the key is empty`);
    if (eq === -1) out[line.trimEnd()] = fromEnvironment(line.trimEnd(), where, env);
    else out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function fromEnvironment(key: string, where: string, env: NodeJS.ProcessEnv): string {
  const value = env[key];
  if (value === undefined) {
    throw usageError(
      `${where}: ${key} is not set in this environment; export it first (or give KEY=VALUE in a --secret-env-file)`,
    );
  }
  return value;
}
