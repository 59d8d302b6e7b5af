import { type BerthError, type BerthErrorCode, isBerthError } from "@berth/client";

/**
 * What a person can do about each error berth (or the client) reports, in
 * a sentence: docs/errors.md says the same at more length. berth's message
 * says what happened; this says what to do next. A code not listed gets none.
 */
const FIXES: Partial<Record<BerthErrorCode, string>> = {
  VALIDATION_FAILED: "Correct what the message names, then send again.",
  NOT_FOUND: "The container (or release) is gone, or is not yours: reload the list.",
  CONFLICT: "Another operation is running on this container: wait for it to finish, then try again.",
  DOCKER_UNAVAILABLE: "The container engine is not reachable: try again in a moment, or ask the operator.",
  DOCKER_ERROR: "The container engine refused: try again, or ask the operator to check its log.",
  NOT_READY: "Check the container's output, fix its code, then start it again.",
  CHANNEL_NOT_CONNECTED:
    "The workload is not connected to berth: check that it runs and connects to BERTH_SOCKET.",
  CHANNEL_DISCONNECTED: "The workload went away before it answered: check its output, then send again.",
  CHANNEL_TIMEOUT: "The workload did not answer in time: allow a longer timeout, or make it answer sooner.",
  CHANNEL_BUSY: "Too much is waiting for this workload: wait for some answers, then send again.",
  TOO_MANY_SUBSCRIPTIONS: "This connection follows too many things: close another page of this dashboard.",
  FRAME_TOO_LARGE: "The data is larger than a channel frame (maxFrameBytes): send less.",
  WORKLOAD_ERROR: "The workload answered with an error of its own: see its message and code.",
  UPDATE_ROLLED_BACK:
    "The previous release runs again. Check the failed release's output, fix the code, then update again.",
  ROLLBACK_FAILED: "The container is marked failed: update it with code that starts, or delete it.",
  STORAGE_ERROR: "berth's disk is full or read-only: ask the operator to make room, then try again.",
  QUOTA_EXCEEDED: "Stop or delete a container, or ask the operator for a larger quota.",
  RATE_LIMITED: "Too many operations in a short time: wait a moment, then try again.",
  SHUTTING_DOWN: "berth is restarting: try again once it is back.",
  INTERNAL: "Something went wrong inside berth: the operator finds the details in its log.",
  DISCONNECTED:
    "The connection dropped before the answer: look at the container's state before repeating an operation.",
  TIMEOUT: "berth did not answer in time: look at the container's state, then try again.",
  PAYLOAD_TOO_LARGE: "The data is larger than berth accepts in one message: send less.",
  CLOSED: "The dashboard's connection was closed: sign in again.",
  SESSION_REVOKED: "Your token was revoked: sign in with a new one.",
  ABORTED: "The operation was cancelled here; berth may still have carried it out.",
};

/** The error's code, message and fix, as the dashboard shows a failure; anything else as a generic failure. */
export interface ErrorFacts {
  code: string;
  message: string;
  fix?: string;
}

export function errorFacts(err: unknown): ErrorFacts {
  if (!isBerthError(err)) {
    return {
      code: "UNKNOWN",
      message: "The operation failed for a reason berth did not say.",
      fix: "Try again.",
    };
  }
  const fix = FIXES[(err as BerthError).code];
  return { code: err.code, message: err.message, ...(fix === undefined ? {} : { fix }) };
}
