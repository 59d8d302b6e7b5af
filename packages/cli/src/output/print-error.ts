import { type BerthError, isBerthError } from "@berth/client";
import { CliError, EXIT, type ExitCode } from "../cli-error.ts";
import type { Output } from "./output.ts";

/** How many of a failed start's output lines are shown (berth sends at most its own bound). */
const OUTPUT_LINES_SHOWN = 20;

/**
 * Prints why a command failed on stderr and says which exit code that is:
 * `error CODE: message` for berth's errors (with the cause and the last
 * output lines of a workload that did not come up), `error: message` for
 * the CLI's own. Never prints a token or a secret: berth redacts what it
 * sends, and the CLI's own messages name flags, not values.
 *
 * @example process.exitCode = printError(out, err);
 */
export function printError(out: Output, err: unknown): ExitCode {
  const red = out.color.red;
  if (err instanceof CliError) {
    out.note(`${red("error")}: ${err.message}`);
    return err.exitCode;
  }
  if (isBerthError(err)) {
    out.note(`${red(`error ${err.code}`)}: ${err.message}`);
    for (const line of causeLines(err)) out.note(line);
    const hint = HINTS[err.code];
    if (hint) out.note(out.color.dim(`hint: ${hint}`));
    return EXIT.FAILED;
  }
  // Errors with a code of berth's shape that are not (yet) BerthErrors, such as codeFromDirectory's refusals.
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const label = typeof code === "string" && /^[A-Z][A-Z_]+$/.test(code) ? `error ${code}` : "error";
  out.note(`${red(label)}: ${message}`);
  return EXIT.FAILED;
}

const HINTS: Record<string, string> = {
  UNAUTHORIZED:
    "pass the token with --token T, set BERTH_TOKEN, or save it with `berth login URL --token-stdin` (the CLI sends it as auth: { token })",
  CONNECTION_FAILED:
    "start berth with `berth serve` (or `npm start`), or point the CLI at it with --url or BERTH_URL",
};

/** The cause of a start that failed its gate: `cause`, `exitCode`, `failedStep` and the last `output` lines. */
export function causeLines(err: BerthError): string[] {
  if (err.code !== "UPDATE_ROLLED_BACK" && err.code !== "NOT_READY" && err.code !== "ROLLBACK_FAILED")
    return [];
  const d = (err.details ?? {}) as Record<string, unknown>;
  const lines: string[] = [];
  const facts: string[] = [];
  if (typeof d.cause === "string") facts.push(`cause: ${d.cause}`);
  if (typeof d.exitCode === "number") facts.push(`exit code: ${d.exitCode}`);
  if (typeof d.failedStep === "string") facts.push(`failed step: ${d.failedStep}`);
  if (typeof d.rollbackCause === "string") facts.push(`rollback cause: ${d.rollbackCause}`);
  if (facts.length > 0) lines.push(`  ${facts.join(", ")}`);
  const output = Array.isArray(d.output) ? d.output.filter((l): l is string => typeof l === "string") : [];
  if (output.length > 0) {
    lines.push("  last output:");
    for (const l of output.slice(-OUTPUT_LINES_SHOWN)) lines.push(`    | ${l}`);
  } else if (d.cause !== undefined) {
    lines.push("  last output: (none)");
  }
  return lines;
}
