import { usageError } from "../cli-error.ts";

/**
 * A JSON document given on the command line (`berth send NAME '{"a":1}'`),
 * or `-` for one read from standard input by the caller. Invalid JSON is a
 * usage error (exit 2) that shows where the parser stopped.
 *
 * @example parseJsonArgument('{"ping":1}', "JSON") // { ping: 1 }
 */
export function parseJsonArgument(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw usageError(
      `${name} is not valid JSON (${why}); quote it for the shell, e.g. '{"ping": 1}' or '"text"'`,
    );
  }
}
