/**
 * A configuration berth cannot start with: a variable that does not parse,
 * or values that contradict each other. main.ts prints its message and
 * exits; the message always names the variable.
 */
export class ConfigError extends Error {
  /** The error for one problem, worded as every start-up refusal is: `invalid configuration:` and the problem. */
  static invalid(problem: string): ConfigError {
    return new ConfigError(`invalid configuration:\n  ${problem}`);
  }
}
