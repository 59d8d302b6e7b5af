import { type StepView, stepLabel } from "./step-log.ts";

interface Props {
  steps: readonly StepView[];
  /** Names the list for a screen reader: "Steps of the update". */
  label: string;
}

const STATUS_WORDS = { started: "under way", done: "done", failed: "failed" } as const;

/** The steps of a long operation as berth reports them, each with its status and time; read out as they change. */
export function ProgressSteps({ steps, label }: Props) {
  if (steps.length === 0) return null;
  return (
    <ol class="steps" aria-label={label} aria-live="polite">
      {steps.map((s) => (
        <li key={s.step} data-step={s.step} data-status={s.status} class={`step step-${s.status}`}>
          {stepLabel(s.step)}: {STATUS_WORDS[s.status]}
          {s.ms !== undefined && <span class="step-ms"> ({s.ms} ms)</span>}
        </li>
      ))}
    </ol>
  );
}
