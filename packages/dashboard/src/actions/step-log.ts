import type { ContainerProgressEvent, StepStatus } from "@berth/client";

/** One step of a long operation as the page lists it: its name, where it is, and how long it took. */
export interface StepView {
  step: string;
  status: StepStatus;
  ms?: number;
}

/**
 * The steps so far after `event`: a step already listed changes in place
 * (started → done or failed), a new one goes at the end, so the list reads
 * in the order berth ran them (a rolled-back update's `rollback:*` last).
 *
 * @example
 *   let steps: StepView[] = [];
 *   steps = addStep(steps, { opId, id, step: "write", status: "started" });
 */
export function addStep(steps: readonly StepView[], event: ContainerProgressEvent): StepView[] {
  const view: StepView = {
    step: event.step,
    status: event.status,
    ...(event.ms === undefined ? {} : { ms: event.ms }),
  };
  const at = steps.findIndex((s) => s.step === event.step);
  if (at < 0) return [...steps, view];
  return steps.map((s, i) => (i === at ? view : s));
}

/** Words for a step's name, as berth names them (`rollback:start` → "rollback: start"). */
export function stepLabel(step: string): string {
  const words: Record<string, string> = {
    validate: "check the request",
    write: "write the code",
    create: "create the container",
    start: "start",
    ready: "wait for the workload's hello",
    stop: "stop",
    switch: "switch to the new release",
    health: "health check",
  };
  const [prefix, name] = step.startsWith("rollback:") ? ["roll back: ", step.slice(9)] : ["", step];
  return prefix + (words[name] ?? name);
}
