import { isBerthError } from "@berth/client";

/**
 * A failure as the dashboard shows it: what went wrong, what to do about it,
 * the field at fault and the workload's last output when berth sent them.
 * Every part of the dashboard tells its failures through this one.
 */
export interface ErrorView {
  code: string;
  message: string;
  /** What the person at the page can do about it. */
  fix: string;
  /**
   * The field of the request berth named (VALIDATION_FAILED's `details.field`,
   * or the path of its first issue: `name`, `env.FOO`, `resources.memoryMb`;
   * `name` for a NAME_CONFLICT).
   */
  field?: string;
  /**
   * The last lines the workload printed, when berth sent them (NOT_READY:
   * the workload exited or never connected). Redacted by berth; shown as text.
   */
  output?: string[];
}

/**
 * What to do, by code: berth's message says what happened; this says what the
 * reader can change (docs/errors.md says the same at more length).
 */
const FIXES: Record<string, string> = {
  VALIDATION_FAILED: "Correct the field named, then try again.",
  NAME_CONFLICT: "Choose another name, or delete the container that has it.",
  NOT_FOUND: "The container (or release) is gone, or is not yours: reload the list.",
  CONFLICT: "Another operation is running on this container: wait for it to finish, then try again.",
  QUOTA_EXCEEDED: "Stop or delete a container to free your quota, or ask berth's operator for a larger one.",
  RATE_LIMITED: "Wait a little, then try again.",
  IMAGE_NOT_FOUND: "Choose another runtime or image; berth's operator must build this one first.",
  IMAGE_INCOMPATIBLE: "Choose another runtime or image; berth's operator must rebuild this one.",
  DOCKER_UNAVAILABLE: "The container engine is not reachable: try again shortly.",
  DOCKER_ERROR: "The container engine refused: try again, or ask berth's operator to look at its log.",
  NOT_READY:
    "The workload did not say hello: check its output and its code (the entry file must start berth's workload SDK).",
  CHANNEL_NOT_CONNECTED:
    "The workload is not connected to berth: check that it runs and connects to BERTH_SOCKET.",
  CHANNEL_DISCONNECTED: "The workload went away before it answered: check its output, then send again.",
  CHANNEL_TIMEOUT: "The workload did not answer in time: allow a longer timeout, or make it answer sooner.",
  CHANNEL_BUSY: "Too much is waiting for this workload: wait for some answers, then send again.",
  TOO_MANY_SUBSCRIPTIONS: "This connection follows too many things: close another page of this dashboard.",
  FRAME_TOO_LARGE: "The data is larger than a frame to the workload (maxFrameBytes): send less.",
  WORKLOAD_ERROR: "The workload answered with an error of its own: see its message and code.",
  UPDATE_ROLLED_BACK:
    "The previous release runs again. Fix the code (see the cause and output), then update again.",
  ROLLBACK_FAILED: "The container is marked failed: update it again with working code, or delete it.",
  PAYLOAD_TOO_LARGE:
    "It is larger than berth takes in one message: send less (code: fewer files, or an archive).",
  STORAGE_ERROR: "berth could not write to its disk: ask its operator to make room, then try again.",
  EGRESS_FILTER_UNAVAILABLE: "This berth cannot filter outbound traffic: ask its operator.",
  SHUTTING_DOWN: "berth is restarting: try again once the page has reconnected.",
  INTERNAL: "Something went wrong inside berth: its operator finds the details in its log.",
  DISCONNECTED: "The connection dropped while waiting: check the container's state before trying again.",
  TIMEOUT: "berth took too long to answer: check the container's state before trying again.",
  CLOSED: "The session ended: sign in again.",
  SESSION_REVOKED: "Your token was revoked: sign in with a new one.",
  ABORTED: "Cancelled here; berth may still have carried it out: check the container's state.",
};

const DEFAULT_FIX = "Try again; if it keeps failing, berth's operator can find the cause in its log.";

/**
 * Turns whatever a call threw into the words the page shows. Only
 * BerthErrors carry berth's message (which berth has already redacted);
 * anything else is described without its text, which could be anything.
 *
 * @example
 *   const view = describeError(err); // { code: "CHANNEL_TIMEOUT", message: "…", fix: "The workload did not answer in time: …" }
 */
export function describeError(err: unknown): ErrorView {
  if (!isBerthError(err)) {
    return { code: "UNKNOWN", message: "It failed for a reason berth did not say.", fix: DEFAULT_FIX };
  }
  const view: ErrorView = { code: err.code, message: err.message, fix: FIXES[err.code] ?? DEFAULT_FIX };
  const field = fieldOf(err.details);
  if (err.code === "VALIDATION_FAILED" && field !== undefined) view.field = field;
  if (err.code === "NAME_CONFLICT") view.field = "name";
  const output = err.code === "NOT_READY" ? err.details?.output : undefined;
  if (Array.isArray(output)) view.output = output.filter((l): l is string => typeof l === "string");
  return view;
}

function fieldOf(details: Record<string, unknown> | undefined): string | undefined {
  if (!details) return undefined;
  if (typeof details.field === "string") return details.field;
  const issues = details.issues;
  if (Array.isArray(issues)) {
    const path = (issues[0] as { path?: unknown } | undefined)?.path;
    if (typeof path === "string" && path !== "") return path;
  }
  return undefined;
}
