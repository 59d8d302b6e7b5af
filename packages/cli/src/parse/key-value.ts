import { usageError } from "../cli-error.ts";

/**
 * One `KEY=VALUE` of a repeatable flag (`--env`, `--label`), added to the
 * map built so far; commander calls it once per occurrence. The value may
 * hold `=` and may be empty; the key may not be.
 *
 * @example parseKeyValue("A=1", "--env", {}) // { A: "1" }
 */
export function parseKeyValue(
  text: string,
  flag: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const eq = text.indexOf("=");
  // Not for secrets: --secret-env has its own parser, which never echoes what it was given.
  if (eq <= 0) throw usageError(`${flag} takes KEY=VALUE (got '${text}')`);
  return { ...previous, [text.slice(0, eq)]: text.slice(eq + 1) };
}
