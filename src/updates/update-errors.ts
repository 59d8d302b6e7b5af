import { BerthError } from "../errors/berth-error.ts";

/** Where a gated restart failed and why; the details every failed update and rollback report. */
export interface GateFailure {
  failedStep: "restart" | "ready" | "health";
  cause: string;
  exitCode?: number;
  output: string[];
  message: string;
}

export class UpdateRolledBackError extends BerthError {
  constructor(release: number, restoredRelease: number | null, failure: GateFailure) {
    const { message, ...facts } = failure;
    super(
      "UPDATE_ROLLED_BACK",
      `Release ${release} did not come up (${message}); release ${restoredRelease ?? "none"} is running again.`,
      { details: { release, restoredRelease, ...facts } },
    );
  }
}

export class RollbackFailedError extends BerthError {
  constructor(release: number, restoredRelease: number | null, failure: GateFailure, rollback: GateFailure) {
    const { message, ...facts } = failure;
    super(
      "ROLLBACK_FAILED",
      `Release ${release} did not come up (${message}), and release ${restoredRelease ?? "none"} did not come back either (${rollback.message}).`,
      {
        details: {
          release,
          restoredRelease,
          ...facts,
          rollbackStep: rollback.failedStep,
          rollbackCause: rollback.cause,
        },
      },
    );
  }
}
