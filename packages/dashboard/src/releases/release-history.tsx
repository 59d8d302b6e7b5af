import type { BerthClient, ContainerInfo } from "@berth/client";
import { useRef, useState } from "preact/hooks";
import { ErrorNotice } from "../errors/error-notice.tsx";
import { formatBytes, formatTime } from "../format.ts";
import { FailureOutput } from "./failure-output.tsx";
import { describeCause, type ReleaseRow } from "./release-rows.ts";
import { RollbackStatus } from "./rollback-status.tsx";
import { useReleases } from "./use-releases.ts";
import { useRollback } from "./use-rollback.ts";
import "./releases.css";

interface Props {
  client: BerthClient;
  info: ContainerInfo;
}

/**
 * The container page's release history: every release of its code, newest
 * first, which one is active, why each failed one failed (step, cause, the
 * last output), and a "Roll back" button on each earlier good release —
 * confirmed first, then followed step by step to its result or its error.
 * Live: an update or rollback made elsewhere shows without a reload.
 */
export function ReleaseHistory({ client, info }: Props) {
  const releases = useReleases(client, info.id);
  const { op, rollBack } = useRollback(client, info.id);
  const [confirming, setConfirming] = useState<number>();
  const busy = op?.status === "running";
  // Where the focus goes once the confirmation closes (its buttons leave the page with it): back to the
  // release's button after a cancel, to the rollback's progress after a yes.
  const focusNext = useRef<number | "status" | undefined>(undefined);
  const takeFocus = (key: number | "status") => (el: HTMLElement | null) => {
    if (el && focusNext.current === key) {
      focusNext.current = undefined;
      el.focus();
    }
  };

  const cancel = (release: number) => {
    focusNext.current = release;
    setConfirming(undefined);
  };
  const confirm = async (release: number) => {
    focusNext.current = "status";
    setConfirming(undefined);
    await rollBack(release);
    releases.reload();
  };

  return (
    <section class="releases" aria-labelledby="releases-heading">
      <h2 id="releases-heading">Releases</h2>
      {releases.status === "loading" && <p role="status">Reading the releases…</p>}
      {releases.status === "failed" && releases.error && (
        <ErrorNotice what="Reading the releases" error={releases.error} />
      )}
      {releases.status === "ready" && releases.rows.length === 0 && (
        <p>This container has no release of its code.</p>
      )}
      {op && (
        <div tabIndex={-1} ref={takeFocus("status")} class="rollback-focus">
          <RollbackStatus op={op} />
        </div>
      )}
      <ol class="release-list">
        {releases.rows.map((row) => (
          <li key={row.release.number} data-release={row.release.number} data-status={row.release.status}>
            <ReleaseSummary row={row} />
            {row.failure && (
              <>
                <p class="release-failure">
                  Failed at the <strong>{row.failure.failedStep ?? "unknown"}</strong> step:{" "}
                  <span data-cause={row.failure.cause}>{describeCause(row.failure)}</span>
                  {row.failure.rollbackFailed && ", and the release before it did not come back either"}.
                </p>
                <FailureOutput
                  client={client}
                  containerId={info.id}
                  release={row.release}
                  failure={row.failure}
                />
              </>
            )}
            {row.release.status === "failed" && !row.failure && (
              <p class="release-failure">
                Failed before its gate (a stop, a switch or a restart of berth cut it short), or the activity
                feed no longer holds why.
              </p>
            )}
            {row.canRollBack &&
              (confirming === row.release.number ? (
                <RollbackConfirm
                  release={row.release.number}
                  onConfirm={() => void confirm(row.release.number)}
                  onCancel={() => cancel(row.release.number)}
                />
              ) : (
                <button
                  type="button"
                  ref={takeFocus(row.release.number)}
                  disabled={busy}
                  onClick={() => setConfirming(row.release.number)}
                >
                  Roll back to release {row.release.number}
                </button>
              ))}
          </li>
        ))}
      </ol>
    </section>
  );
}

const STATUS_WORDS: Record<string, string> = {
  active: "active",
  previous: "previous",
  failed: "failed",
  "rolled-back": "rolled back",
  pending: "being installed",
};

function ReleaseSummary({ row }: { row: ReleaseRow }) {
  const { release } = row;
  const tone =
    release.status === "active"
      ? "good"
      : release.status === "failed"
        ? "bad"
        : release.status === "pending"
          ? "busy"
          : "quiet";
  return (
    <p class="release-summary">
      <strong>Release {release.number}</strong>{" "}
      <span class={`badge badge-${tone}`} data-release-status={release.status}>
        {STATUS_WORDS[release.status] ?? release.status}
      </span>{" "}
      <time dateTime={new Date(release.createdAt).toISOString()}>{formatTime(release.createdAt)}</time>
      <span class="release-meta">
        {" "}
        by {release.createdBy} · {release.files} {release.files === 1 ? "file" : "files"},{" "}
        {formatBytes(release.bytes)}
      </span>
    </p>
  );
}

interface ConfirmProps {
  release: number;
  onConfirm: () => void;
  onCancel: () => void;
}

/** Asks before a rollback, which restarts the workload. The focus goes to the question's answer; Escape cancels. */
function RollbackConfirm({ release, onConfirm, onCancel }: ConfirmProps) {
  const focus = useRef<HTMLButtonElement>(null);
  // A ref callback rather than autofocus: the button takes the focus when it appears, after the click.
  const take = (el: HTMLButtonElement | null) => {
    if (el && focus.current !== el) {
      focus.current = el;
      el.focus();
    }
  };
  return (
    <fieldset class="confirm" onKeyDown={(e) => e.key === "Escape" && onCancel()}>
      <legend>Confirm the rollback to release {release}</legend>
      <p>Roll back to release {release}? The container restarts on that release's code.</p>
      <button type="button" ref={take} onClick={onConfirm}>
        Yes, roll back to release {release}
      </button>{" "}
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
    </fieldset>
  );
}
