import type { BerthClient, ContainerInfo } from "@berth/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { ConfirmDialog } from "../actions/confirm-dialog.tsx";
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
  // After a confirmed rollback, the focus goes to its progress (an effect: after the dialog has closed,
  // which gives the focus back to the button that opened it, now disabled while the rollback runs).
  const status = useRef<HTMLDivElement>(null);
  const focusStatus = useRef(false);
  useEffect(() => {
    if (op?.status === "running" && focusStatus.current) {
      focusStatus.current = false;
      status.current?.focus();
    }
  }, [op?.status]);

  const confirm = async (release: number) => {
    focusStatus.current = true;
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
        <div tabIndex={-1} ref={status} class="rollback-focus">
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
            {row.canRollBack && (
              <button type="button" disabled={busy} onClick={() => setConfirming(row.release.number)}>
                Roll back to release {row.release.number}
              </button>
            )}
          </li>
        ))}
      </ol>
      {confirming !== undefined && (
        <ConfirmDialog
          title={`Roll back to release ${confirming}?`}
          confirmLabel={`Yes, roll back to release ${confirming}`}
          onCancel={() => setConfirming(undefined)}
          onConfirm={() => void confirm(confirming)}
        >
          <p>The container restarts on the code of release {confirming}; the active release is kept.</p>
        </ConfirmDialog>
      )}
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
