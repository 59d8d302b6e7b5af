import { ErrorNotice } from "../errors/error-notice.tsx";
import type { RollbackOp } from "./use-rollback.ts";

/** The progress of a rollback asked for on this page, then its result or its error (with the fix). */
export function RollbackStatus({ op }: { op: RollbackOp }) {
  // One line per step, with its latest status (a step reports `started`, then `done` or `failed`).
  const steps = [...new Map(op.steps.map((e) => [e.step, e])).values()];
  const seconds = op.status === "done" ? (op.result.timings.total / 1000).toFixed(1) : "";
  return (
    <div class="rollback-status" data-rollback={op.status}>
      <p role="status">
        {op.status === "running" && `Rolling back to release ${op.release}…`}
        {op.status === "done" &&
          `Rolled back to release ${op.result.release} in ${seconds} s` +
            (op.result.previousRelease === null ? "." : ` (release ${op.result.previousRelease} before).`)}
      </p>
      {steps.length > 0 && (
        <ol class="steps" aria-label={`Steps of the rollback to release ${op.release}`}>
          {steps.map((step) => (
            <li key={step.step} data-step={step.step} data-step-status={step.status}>
              {step.step}: {step.status}
              {step.ms === undefined ? "" : ` (${Math.round(step.ms)} ms)`}
            </li>
          ))}
        </ol>
      )}
      {op.status === "failed" && (
        <ErrorNotice what={`Rolling back to release ${op.release}`} error={op.error} />
      )}
    </div>
  );
}
