import { ProgressSteps } from "../actions/progress-steps.tsx";
import { ErrorNotice } from "../errors/error-notice.tsx";
import type { RollbackOp } from "./use-rollback.ts";

/** The progress of a rollback asked for on this page, then its result or its error (with the fix). */
export function RollbackStatus({ op }: { op: RollbackOp }) {
  const seconds = op.status === "done" ? (op.result.timings.total / 1000).toFixed(1) : "";
  return (
    <div class="rollback-status" data-rollback={op.status}>
      <p role="status">
        {op.status === "running" && `Rolling back to release ${op.release}…`}
        {op.status === "done" &&
          `Rolled back to release ${op.result.release} in ${seconds} s` +
            (op.result.previousRelease === null ? "." : ` (release ${op.result.previousRelease} before).`)}
      </p>
      <ProgressSteps steps={op.steps} label={`Steps of the rollback to release ${op.release}`} />
      {op.status === "failed" && (
        <ErrorNotice what={`Rolling back to release ${op.release}`} error={op.error} />
      )}
    </div>
  );
}
