/** What the process exits with: the contract every script that runs `berth` relies on. */
export const EXIT = {
  /** The command did what it was asked. */
  OK: 0,
  /** berth (or the workload) answered with an error, or could not be reached. */
  FAILED: 1,
  /** The command line itself is wrong: an unknown flag, a missing argument, JSON that does not parse. */
  USAGE: 2,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * An error the CLI finds itself, before or without berth: a bad argument, a
 * missing token, a folder that cannot be read. `exitCode` says which of
 * EXIT it ends the process with; the message says what to change.
 *
 * @example throw new CliError("--tail must be a whole number, e.g. --tail 100", EXIT.USAGE);
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = EXIT.USAGE, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A bad command line: exit 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT.USAGE);
}
