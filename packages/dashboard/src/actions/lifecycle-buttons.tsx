import type { BerthClient, ContainerInfo, ContainerState } from "@berth/client";
import { useState } from "preact/hooks";
import { ErrorNotice } from "../errors/error-notice.tsx";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { ProgressSteps } from "./progress-steps.tsx";
import { stepLabel } from "./step-log.ts";
import { useAction } from "./use-action.ts";

interface Props {
  client: BerthClient;
  info: ContainerInfo;
  /** After berth confirmed the delete (the container page goes back to the list). */
  onDeleted?: () => void;
  /** The steps of a restart as a list (the container page), or only the current one (a row of the overview). */
  showSteps?: boolean;
}

type Verb = "start" | "stop" | "restart" | "delete";

/** Which buttons a state offers: those berth would carry out (it refuses the others with CONFLICT anyway). */
const OFFERED: Record<Exclude<Verb, "delete">, readonly ContainerState[]> = {
  start: ["created", "stopped", "exited", "failed"],
  stop: ["running", "starting", "restarting", "paused"],
  restart: ["running", "exited"],
};

const WORDS: Record<Verb, { label: string; pending: string }> = {
  start: { label: "Start", pending: "Starting" },
  stop: { label: "Stop", pending: "Stopping" },
  restart: { label: "Restart", pending: "Restarting" },
  delete: { label: "Delete", pending: "Deleting" },
};

/**
 * Start, stop, restart and delete for one container: the pressed button
 * says what is under way (a restart: its current step), the others wait;
 * a failure shows berth's message and what to do; delete asks first.
 * Each button's name ends with the container's, so that 200 rows of "Stop"
 * still say which.
 */
export function LifecycleButtons({ client, info, onDeleted, showSteps = false }: Props) {
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const { state } = action;
  const pending = state.phase === "pending" ? state.label : undefined;

  const act = (verb: Verb) =>
    action.run(verb, async (onProgress) => {
      const container = await client.containers.get(info.id);
      if (verb === "start") await container.start();
      else if (verb === "stop") await container.stop();
      else if (verb === "restart") await container.restart({ onProgress });
      else {
        await container.delete();
        onDeleted?.();
      }
      return undefined;
    });

  const button = (verb: Verb) => {
    const offered = verb === "delete" ? info.state !== "removing" : OFFERED[verb].includes(info.state);
    if (!offered && pending !== verb) return null;
    const current = state.phase === "pending" && !showSteps ? state.steps.at(-1) : undefined;
    return (
      <button
        type="button"
        class={verb === "delete" ? "danger" : undefined}
        data-action={verb}
        disabled={pending !== undefined}
        aria-busy={pending === verb ? true : undefined}
        onClick={() => (verb === "delete" ? setConfirming(true) : void act(verb))}
      >
        {pending === verb ? `${WORDS[verb].pending}…` : WORDS[verb].label}
        <span class="visually-hidden"> {info.name}</span>
        {pending === verb && current && <span class="step-now"> ({stepLabel(current.step)})</span>}
      </button>
    );
  };

  return (
    <div class="lifecycle">
      <div class="lifecycle-buttons">
        {button("start")}
        {button("stop")}
        {button("restart")}
        {button("delete")}
      </div>
      {showSteps && state.phase !== "idle" && state.label === "restart" && (
        <ProgressSteps steps={state.steps} label={`Steps of restarting ${info.name}`} />
      )}
      {state.phase === "failed" && (
        <ErrorNotice
          what={`${WORDS[state.label as Verb].pending} ${info.name}`}
          error={state.error}
          onDismiss={action.reset}
        />
      )}
      {confirming && (
        <ConfirmDialog
          title={`Delete ${info.name}?`}
          confirmLabel={`Delete ${info.name}`}
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            void act("delete");
          }}
        >
          <p>
            berth stops it if it runs, then removes it with its code and every release. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
