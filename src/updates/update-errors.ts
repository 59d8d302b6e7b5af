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

/** Why a gated restart failed, in words that complete "… failed: ". */
export function describeGateCause(cause: unknown, exitCode: unknown): string {
  switch (cause) {
    case "exited":
      return `the process exited with code ${exitCode}`;
    case "never_connected":
      return "the process never connected to berth";
    case "bad_hello":
      return "the process did not introduce itself correctly";
    case "health_error":
      return "its health check failed";
    case "health_mismatch":
      return "its health check gave the wrong answer";
    case "timeout":
      return "the process was not ready in time";
    default:
      return "it could not be started";
  }
}
