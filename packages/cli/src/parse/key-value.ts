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
  if (eq <= 0) throw usageError(`${flag} takes KEY=VALUE (got '${redactValue(flag, text)}')`);
  return { ...previous, [text.slice(0, eq)]: text.slice(eq + 1) };
}

// A malformed --secret-env may be the secret itself: never echo it back.
function redactValue(flag: string, text: string): string {
  return flag === "--secret-env" ? "…" : text;
}
