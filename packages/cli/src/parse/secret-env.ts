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
  const key = text.slice(0, eq);
  // A key that is no variable's name may be a secret whose own '=' was taken for the separator (base64).
  if (!ENV_NAME.test(key)) {
    throw usageError(
      "--secret-env takes KEY or KEY=VALUE, KEY a variable's name (letters, digits and '_'); what was given is not shown, as it may be a secret",
    );
  }
  return { ...previous, [key]: text.slice(eq + 1) };
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
    if (eq === -1) {
      out[line.trimEnd()] = fromEnvironment(line.trimEnd(), where, env);
      continue;
    }
    const key = line.slice(0, eq);
    // A base64 line of a multi-line value ends in '=': its "key" is part of the secret.
    if (!ENV_NAME.test(key)) {
      throw usageError(
        `${where}: the key is not a variable's name (letters, digits and '_'); the line is not shown`,
      );
    }
    out[key] = line.slice(eq + 1);
  }
  return out;
}

/** A variable's name as berth takes it (and a shell exports it). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A name in the shape variables are given by convention (API_KEY): the only kind an error repeats. */
const CONVENTIONAL_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;

/**
 * The value of `key` in this environment. What is taken for a key may be a
 * secret given without its `KEY=` (`--secret-env "$API_KEY"`, a PEM file's
 * second line), so an error repeats it only in the conventional shape of a
 * name (upper case, digits, '_'; tokens mix cases), and otherwise not at all.
 */
function fromEnvironment(key: string, where: string, env: NodeJS.ProcessEnv): string {
  if (!ENV_NAME.test(key)) {
    throw usageError(
      `${where}: expected KEY=VALUE, or KEY alone (a variable's name: letters, digits and '_') to take its value from this environment; what was given is not shown, as it may be a secret`,
    );
  }
  const value = env[key];
  if (value === undefined) {
    const which = CONVENTIONAL_NAME.test(key) ? key : "the variable given by name (not shown)";
    throw usageError(
      `${where}: ${which} is not set in this environment; export it first (or give KEY=VALUE in a --secret-env-file)`,
    );
  }
  return value;
}
