import { expect } from "vitest";
import { CliError, EXIT } from "../src/cli-error.ts";

/** The usage error (exit 2) that `fn` throws; fails the test when it throws nothing, or something else. */
export function usageErrorOf(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.USAGE);
    return err as CliError;
  }
  throw new Error("expected a usage error");
}
