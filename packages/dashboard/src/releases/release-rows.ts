import type { ActivityEntry, ReleaseInfo } from "@berth/client";
import { CAUSE_WORDS } from "../actions/rollback-facts.ts";

/** Why a release failed, as the activity feed told it when berth put the one before back. */
export interface ReleaseFailure {
  /** `restart`, `ready` or `health`. */
  failedStep?: string;
  /** `exited`, `never_connected`, `bad_hello`, `timeout`, `health_error`, `health_mismatch`, … */
  cause?: string;
  exitCode?: number;
  /** The feed's sentence, in berth's words. */
  message: string;
  /** When berth gave up on the release (the feed entry's time). */
  ts: number;
  /** The last lines the failed release printed, when the feed kept them (redacted by berth). */
  output?: string[];
  /** Putting the previous release back failed too: the container is marked failed. */
  rollbackFailed: boolean;
}

/** One row of the release history. */
export interface ReleaseRow {
  release: ReleaseInfo;
  failure?: ReleaseFailure;
  /** Whether a "Roll back" button belongs on it: a good release older than the active one. */
  canRollBack: boolean;
}

/** The feed's actions for an update or a rollback whose release failed its gate. */
const FAILED_GATE = /^container\.(update|rollback)_(rolled_back|rollback_failed)$/;

/**
 * The releases (newest first, as berth lists them) with the failure of
 * each failed one, joined from the container's activity entries by release
 * number (`details.release`); the newest entry wins when a release failed
 * more than once (a rollback to it, later). A failed release without an
 * entry (one a crash interrupted) has no failure to show.
 *
 * @example
 *   const rows = releaseRows(await bot.releases(), (await client.activity.history({ containerId: bot.id })).items);
 */
export function releaseRows(releases: ReleaseInfo[], entries: ActivityEntry[]): ReleaseRow[] {
  const failures = new Map<number, ReleaseFailure>();
  for (const entry of [...entries].sort((a, b) => a.id - b.id)) {
    const match = FAILED_GATE.exec(entry.action);
    const d = entry.details ?? {};
    if (!match || typeof d.release !== "number") continue;
    const output = Array.isArray(d.output)
      ? d.output.filter((l): l is string => typeof l === "string")
      : undefined;
    failures.set(d.release, {
      ...(typeof d.failedStep === "string" ? { failedStep: d.failedStep } : {}),
      ...(typeof d.cause === "string" ? { cause: d.cause } : {}),
      ...(typeof d.exitCode === "number" ? { exitCode: d.exitCode } : {}),
      ...(output ? { output } : {}),
      message: entry.message,
      ts: entry.ts,
      rollbackFailed: match[2] === "rollback_failed",
    });
  }
  const active = releases.find((r) => r.status === "active")?.number;
  return releases.map((release) => {
    const failure = release.status === "failed" ? failures.get(release.number) : undefined;
    const good = release.status === "previous" || release.status === "rolled-back";
    return {
      release,
      ...(failure ? { failure } : {}),
      canRollBack: good && (active === undefined || release.number < active),
    };
  });
}

/** The feed's actions after which the release list may have changed. */
export function changesReleases(entry: ActivityEntry): boolean {
  return /^container\.(updated|rolled_back|update_|rollback_)/.test(entry.action);
}

/** A gate failure's cause in words, as the update form says it: "the workload exited (exit code 1)". */
export function describeCause(failure: ReleaseFailure): string {
  const words =
    failure.cause === undefined ? "berth did not say why" : (CAUSE_WORDS[failure.cause] ?? failure.cause);
  return failure.exitCode === undefined ? words : `${words} (exit code ${failure.exitCode})`;
}
