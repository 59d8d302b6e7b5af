import type { Runtime } from "#protocol";
import type { CodeEntryList } from "../code/code-entry.ts";

/** What the probe puts in its hello's meta and in its answer, so that berth knows it is its own. */
export const PROBE_MARK = "berth-image-check";

/** The entry file each runtime's default command runs, when the image's labels name none. */
export const DEFAULT_ENTRY: Record<Runtime, string> = { node: "index.js", python: "main.py" };

/**
 * The probes `berth image check` runs as a workload's code: each connects
 * with the SDK the image should carry (`@berth/workload`, `berth_workload`),
 * says hello, and answers any request with what it sees from inside — its
 * working directory, its uid, and whether it can read the code there.
 */
const PROBES: Record<Runtime, string> = {
  node: `// berth image check's probe: connects with the image's @berth/workload and tells what it sees.
const fs = require("node:fs");
const { connect } = require("@berth/workload");

const berth = connect({ meta: { probe: "${PROBE_MARK}" } });
berth.onRequest(() => {
  const seen = { probe: "${PROBE_MARK}", runtime: "node", cwd: process.cwd(), uid: process.getuid() };
  try {
    seen.entries = fs.readdirSync(".").length;
  } catch (err) {
    seen.error = String(err && err.message);
  }
  return seen;
});
process.on("SIGTERM", () => process.exit(0));
`,
  python: `# berth image check's probe: connects with the image's berth_workload and tells what it sees.
import os

import berth_workload


def answer(_data):
    seen = {"probe": "${PROBE_MARK}", "runtime": "python", "cwd": os.getcwd(), "uid": os.getuid()}
    try:
        seen["entries"] = len(os.listdir("."))
    except OSError as err:
        seen["error"] = str(err)
    return seen


berth_workload.run(answer, meta={"probe": "${PROBE_MARK}"})
`,
};

/**
 * The probe for `runtime` as code, written at `entry` (the image's
 * `berth.entry`, or the runtime's usual entry file).
 *
 * @example probeCode("python", "main.py") // [{ path: "main.py", kind: "file", … }]
 */
export function probeCode(runtime: Runtime, entry: string = DEFAULT_ENTRY[runtime]): CodeEntryList {
  return [{ path: entry, kind: "file", content: Buffer.from(PROBES[runtime]), mode: 0o644 }];
}

/** What a probe answers with (anything else came from code that is not the probe). */
export interface ProbeAnswer {
  probe: typeof PROBE_MARK;
  runtime: string;
  cwd: string;
  uid: number;
  entries?: number;
  error?: string;
}

/**
 * Whether `value` is what berth's probe answers, field by field: it comes
 * over the channel from whatever the image runs, so anything else — an
 * `error` that is not a string, an `entries` that is not a count — is not
 * the probe, and is shown as no probe's answer.
 *
 * @example isProbeAnswer({ probe: PROBE_MARK, runtime: "node", cwd: "/", uid: 1, error: 42 }) // → false
 */
export function isProbeAnswer(value: unknown): value is ProbeAnswer {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    v.probe === PROBE_MARK &&
    typeof v.runtime === "string" &&
    typeof v.cwd === "string" &&
    isCount(v.uid) &&
    (v.entries === undefined || isCount(v.entries)) &&
    (v.error === undefined || typeof v.error === "string")
  );
}

/** A whole number from 0 up that prints as digits (not 1e+21, not NaN). */
function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
