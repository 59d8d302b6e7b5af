import type { CodeUpload } from "./container.ts";

/**
 * The checks of `image:check`, in the order they run: what berth does with
 * an image before and while it runs a workload in it. A check that cannot
 * run because an earlier one failed is `skipped`.
 */
export const IMAGE_CHECKS = [
  /** the engine has the image (berth never pulls) */
  "image",
  /** berth.runtime, berth.entry, berth.command and berth.protocol, where the image has them, make sense */
  "labels",
  /** the image has a command of its own (ENTRYPOINT or CMD): berth runs it when a spec names none */
  "command",
  /** the code the check runs has the file the image's command runs (berth.entry) */
  "entry",
  /** the engine started it hardened: an arbitrary uid, read-only root, no capabilities, no network */
  "start",
  /** its working directory, the read-only code mount's current release, can be entered and read */
  "workdir",
  /** the workload connected to BERTH_SOCKET and said hello */
  "connect",
  /** the workload answered one request over berth's channel */
  "request",
] as const;
export type ImageCheckName = (typeof IMAGE_CHECKS)[number];

export type ImageCheckStatus = "passed" | "failed" | "skipped";

/** One check of an image: what was found, and on failure what to do about it. */
export interface ImageCheckItem {
  name: ImageCheckName;
  status: ImageCheckStatus;
  /** What berth found, in words. */
  summary: string;
  /** What to change so that the check passes (failed checks only). */
  fix?: string;
}

/** What the check ran as the workload's code. */
export type ImageCheckCode =
  /** berth's probe for the image's `berth.runtime` (a `main.py` or an `index.js` using the workload SDK) */
  | "probe"
  /** the code the caller sent */
  | "given"
  /** none: the image's command runs on its own, in an empty release */
  | "none";

/** The answer of `image:check`. */
export interface ImageCheckResult {
  image: string;
  /** Every check passed: berth can run workloads in this image. */
  ok: boolean;
  /** Whether BERTH_ALLOWED_IMAGES lists it (clients may only ask for allowed images). */
  allowed: boolean;
  /** The image's `berth.runtime` label, when it has one. */
  runtime?: string;
  code: ImageCheckCode;
  /** The channel protocol version the workload said hello with. */
  protocol?: number;
  /** The workload's exit code, when it exited during the check. */
  exitCode?: number;
  /** The last lines the workload printed, sanitised and redacted as berth shows output (on failure). */
  output?: string[];
  checks: ImageCheckItem[];
  /** How long the check took, in ms. */
  ms: number;
}

/** The payload of `image:check`. */
export interface ImageCheckRequest {
  /** An image on the engine, allowed or not (e.g. one to be added to BERTH_ALLOWED_IMAGES). */
  image: string;
  /** Code to run instead of berth's probe: needed for an image without a `berth.runtime` label. */
  code?: CodeUpload;
}
