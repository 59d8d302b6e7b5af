import type { ProgressListener } from "@berth/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { describeError, type ErrorView } from "../errors/describe-error.ts";
import { addStep, type StepView } from "./step-log.ts";

/** One action's life on the page: idle, under way (with the steps berth reported), done, or failed. */
export type ActionState =
  | { phase: "idle" }
  | { phase: "pending"; label: string; steps: StepView[] }
  | { phase: "done"; label: string; steps: StepView[]; message?: string }
  | { phase: "failed"; label: string; steps: StepView[]; error: ErrorView; cause: unknown };

export interface Action {
  state: ActionState;
  /**
   * Runs `work` unless an action is already under way (a second press of a
   * button does nothing): `work` gets the listener for berth's progress
   * events, and may answer with words that say what it did.
   */
  run(label: string, work: (onProgress: ProgressListener) => Promise<string | undefined>): Promise<void>;
  /** Back to idle (the error dismissed). */
  reset(): void;
}

/**
 * The state of an action a component starts (start, stop, create, update):
 * pending while it runs, then its result or its error in words. Once the
 * component is gone, late answers change nothing.
 */
export function useAction(): Action {
  const [state, setState] = useState<ActionState>({ phase: "idle" });
  const busy = useRef(false);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const set = (next: ActionState | ((s: ActionState) => ActionState)) => mounted.current && setState(next);

  const run: Action["run"] = async (label, work) => {
    if (busy.current) return;
    busy.current = true;
    set({ phase: "pending", label, steps: [] });
    const onProgress: ProgressListener = (event) =>
      set((s) => (s.phase === "pending" ? { ...s, steps: addStep(s.steps, event) } : s));
    try {
      const message = await work(onProgress);
      set((s) => ({
        phase: "done",
        label,
        steps: stepsOf(s),
        ...(message === undefined ? {} : { message }),
      }));
    } catch (cause) {
      set((s) => ({ phase: "failed", label, steps: stepsOf(s), error: describeError(cause), cause }));
    } finally {
      busy.current = false;
    }
  };
  return { state, run, reset: () => set({ phase: "idle" }) };
}

const stepsOf = (s: ActionState): StepView[] => (s.phase === "idle" ? [] : s.steps);
