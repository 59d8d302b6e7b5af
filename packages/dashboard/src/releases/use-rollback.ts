import type { BerthClient, UpdateResult } from "@berth/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { addStep, type StepView } from "../actions/step-log.ts";
import { describeError, type ErrorView } from "../errors/describe-error.ts";

/** A rollback asked for on this page: its steps as berth reports them, then its result or its error. */
export type RollbackOp =
  | { status: "running"; release: number; steps: StepView[] }
  | { status: "done"; release: number; steps: StepView[]; result: UpdateResult }
  | { status: "failed"; release: number; steps: StepView[]; error: ErrorView };

/**
 * Rolls the container back to a release through the client SDK, following
 * its steps (`onProgress`). One at a time: berth would answer a second one
 * with CONFLICT anyway. Once the component is gone, nothing more is shown
 * (the answer still comes; the release list shows its effect).
 */
export function useRollback(
  client: BerthClient,
  containerId: string,
): { op: RollbackOp | undefined; rollBack(release: number): Promise<void> } {
  const [op, setOp] = useState<RollbackOp>();
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const rollBack = async (release: number) => {
    if (op?.status === "running") return;
    let steps: StepView[] = [];
    const update = (next: RollbackOp) => mounted.current && setOp(next);
    update({ status: "running", release, steps });
    try {
      const container = await client.containers.get(containerId);
      const result = await container.rollback({
        release,
        onProgress: (event) => {
          steps = addStep(steps, event);
          update({ status: "running", release, steps });
        },
      });
      update({ status: "done", release, steps, result });
    } catch (err) {
      update({ status: "failed", release, steps, error: describeError(err) });
    }
  };
  return { op, rollBack };
}
