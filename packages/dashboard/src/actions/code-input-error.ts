/** Why code picked in the page cannot be sent, found before anything is read or sent. */
export type CodeInputProblem = "empty" | "too-many-files" | "too-large" | "bad-path" | "not-an-archive";

/**
 * Code the page will not send: berth would refuse it (over its
 * `maxCodeBytes`/`maxCodeFiles`, a path it does not take) or the transport
 * would (over `maxPayloadBytes`). The message says what, the limit and what
 * to do, for the person who picked it.
 */
export class CodeInputError extends Error {
  override readonly name = "CodeInputError";
  readonly problem: CodeInputProblem;

  constructor(problem: CodeInputProblem, message: string) {
    super(message);
    this.problem = problem;
  }
}
