import { isBerthError } from "@berth/client";

/** What berth says of an update that did not come up (UPDATE_ROLLED_BACK / ROLLBACK_FAILED `details`). */
export interface RollbackFacts {
  /** The release that failed. */
  release: number;
  /** The release running again (null: none was). */
  restoredRelease: number | null;
  failedStep: string;
  cause: string;
  exitCode?: number;
  /** The last lines the failed release printed, redacted by berth. Text, shown as text. */
  output: string[];
  /** ROLLBACK_FAILED only: why putting the previous release back failed too. */
  rollbackCause?: string;
}

/** The facts of a rolled-back (or failed) update, read defensively from the error's details; undefined for any other error. */
export function rollbackFacts(err: unknown): RollbackFacts | undefined {
  if (!isBerthError(err, ["UPDATE_ROLLED_BACK", "ROLLBACK_FAILED"]) || !err.details) return undefined;
  const d = err.details;
  const facts: RollbackFacts = {
    release: typeof d.release === "number" ? d.release : 0,
    restoredRelease: typeof d.restoredRelease === "number" ? d.restoredRelease : null,
    failedStep: typeof d.failedStep === "string" ? d.failedStep : "unknown",
    cause: typeof d.cause === "string" ? d.cause : "unknown",
    output: Array.isArray(d.output) ? d.output.filter((l): l is string => typeof l === "string") : [],
  };
  if (typeof d.exitCode === "number") facts.exitCode = d.exitCode;
  if (typeof d.rollbackCause === "string") facts.rollbackCause = d.rollbackCause;
  return facts;
}

/** berth's causes in words. */
export const CAUSE_WORDS: Record<string, string> = {
  exited: "the workload exited",
  never_connected: "the workload never connected to berth",
  bad_hello: "the workload's hello was not berth's protocol",
  timeout: "the workload did not say hello in time",
  health_error: "the health check failed",
  health_mismatch: "the health check's answer was not the one expected",
};
