import type { BerthClient, CodeUpload, ContainerInfo } from "@berth/client";
import { useState } from "preact/hooks";
import { ErrorNotice } from "../errors/error-notice.tsx";
import { CodePicker } from "./code-picker.tsx";
import { ProgressSteps } from "./progress-steps.tsx";
import { CAUSE_WORDS, type RollbackFacts, rollbackFacts } from "./rollback-facts.ts";
import { useAction } from "./use-action.ts";

interface Props {
  client: BerthClient;
  info: ContainerInfo;
}

/**
 * A new release of the container's code, from a folder or an archive: each
 * step as berth runs it, then the release that runs — or, when the new code
 * did not come up, the step that failed, its cause and the workload's last
 * output, with the release berth put back.
 */
export function UpdateForm({ client, info }: Props) {
  const [code, setCode] = useState<CodeUpload>();
  const [missing, setMissing] = useState(false);
  const action = useAction();
  const { state } = action;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!code) {
      setMissing(true);
      document.getElementById("update-code-input")?.focus();
      return;
    }
    setMissing(false);
    await action.run("update", async (onProgress) => {
      const container = await client.containers.get(info.id);
      const result = await container.update(code, { onProgress });
      return `Release ${result.release} runs now${result.previousRelease === null ? "" : ` (it replaced release ${result.previousRelease})`}.`;
    });
  };

  const rolledBack = state.phase === "failed" ? rollbackFacts(state.cause) : undefined;
  return (
    <form class="update-form" method="post" onSubmit={submit} aria-labelledby="update-heading" noValidate>
      <h3 id="update-heading">Update the code</h3>
      <CodePicker
        id="update-code"
        limits={client.info.limits}
        onCode={(c) => {
          setCode(c);
          if (c) setMissing(false);
        }}
        error={missing ? "Pick the new code: a folder or an archive." : undefined}
      />
      <div class="form-actions">
        <button type="submit" disabled={state.phase === "pending"}>
          {state.phase === "pending" ? "Updating…" : "Update"}
        </button>
      </div>
      {state.phase !== "idle" && <ProgressSteps steps={state.steps} label="Steps of the update" />}
      {state.phase === "done" && (
        <p class="done" role="status">
          {state.message}
        </p>
      )}
      {state.phase === "failed" && rolledBack && <RolledBack facts={rolledBack} code={state.error.code} />}
      {state.phase === "failed" && (
        <ErrorNotice what="The update" error={state.error} onDismiss={action.reset} />
      )}
    </form>
  );
}

function RolledBack({ facts, code }: { facts: RollbackFacts; code: string }) {
  return (
    <div class="rolled-back" data-failed-step={facts.failedStep} data-cause={facts.cause}>
      <p>
        {code === "ROLLBACK_FAILED" ? "Not rolled back" : "Rolled back"}: release {facts.release} failed at
        the <strong>{facts.failedStep}</strong> step, because {CAUSE_WORDS[facts.cause] ?? facts.cause}
        {facts.exitCode !== undefined && ` (exit code ${facts.exitCode})`}.{" "}
        {code === "ROLLBACK_FAILED"
          ? `Putting release ${facts.restoredRelease ?? "none"} back failed too (${facts.rollbackCause ?? "unknown"}).`
          : facts.restoredRelease === null
            ? "No earlier release runs."
            : `Release ${facts.restoredRelease} runs again.`}
      </p>
      {facts.output.length > 0 && (
        <>
          <p>Its last output:</p>
          <pre class="output">{facts.output.join("\n")}</pre>
        </>
      )}
    </div>
  );
}
