import type { PressureReport } from "../monitoring/pressure-report.ts";
import type { ActivityDraft } from "./activity-entry.ts";
import { bytes } from "./format-bytes.ts";

/** The container a report is about, as the feed names it. */
export interface ReportedContainer {
  owner: string;
  id: string;
  name: string;
}

/**
 * What a limit did to a workload, in plain words with the numbers, for the
 * feed: a noisy workload's owner learns why it is slow, and that it is held
 * back rather than broken. One entry per episode (the PressureMonitor's rule).
 */
export function describePressure(report: PressureReport, c: ReportedContainer): ActivityDraft {
  const base = { owner: c.owner, containerId: c.id, containerName: c.name };
  const over = `over the last ${secondsOf(report.windowMs)}`;
  switch (report.kind) {
    case "cpu_throttled":
      return {
        ...base,
        level: "warning",
        action: "container.cpu_throttled",
        message: `'${c.name}' is using all the CPU it may: held to its limit of ${cores(report.cpus)}, throttled in ${report.throttledPercent}% of periods ${over}`,
        details: {
          cpus: report.cpus,
          throttledPercent: report.throttledPercent,
          throttledMs: report.throttledMs,
          windowMs: report.windowMs,
        },
      };
    case "pids_limit":
      return {
        ...base,
        level: "warning",
        action: "container.pids_limit_reached",
        message: `'${c.name}' reached its limit of ${report.limit === undefined ? "" : `${count(report.limit)} `}processes${report.current === undefined ? "" : ` (${count(report.current)} running)`}; ${count(report.refused)} new process${report.refused === 1 ? " was" : "es were"} refused ${over}`,
        details: {
          limit: report.limit,
          current: report.current,
          refused: report.refused,
          windowMs: report.windowMs,
        },
      };
    case "channel_flooded":
      return {
        ...base,
        level: "warning",
        action: "container.channel_flooded",
        message: `'${c.name}' flooded its channel: sent ${bytes(report.bytes)} in ${secondsOf(report.windowMs)} (${bytes(report.bytesPerSecond)}/s; the output limit is ${bytes(report.limitBytesPerSecond)}/s)${heldBack(report)}${report.refusedFrames > 0 ? `; ${count(report.refusedFrames)} frame${report.refusedFrames === 1 ? " was" : "s were"} refused` : ""}`,
        details: {
          bytes: report.bytes,
          windowMs: report.windowMs,
          bytesPerSecond: report.bytesPerSecond,
          limitBytesPerSecond: report.limitBytesPerSecond,
          refusedFrames: report.refusedFrames,
          holds: report.holds,
          heldMs: report.heldMs,
          messageRate: report.messageRate,
          messageBytesRate: report.messageBytesRate,
        },
      };
    case "output_rate_limited":
      return {
        ...base,
        level: "warning",
        action: "container.output_rate_limited",
        message: `'${c.name}' output rate-limited: wrote ${bytes(report.bytes)} in ${secondsOf(report.windowMs)} (${bytes(report.bytesPerSecond)}/s; limit ${bytes(report.limitBytesPerSecond)}/s); ${
          report.holdMs > 0
            ? `held to ${report.heldCpus} CPU for ${secondsOf(report.holdMs)}`
            : `not held back: its own limit of ${report.heldCpus} CPU is already that low`
        }`,
        details: {
          bytes: report.bytes,
          windowMs: report.windowMs,
          bytesPerSecond: report.bytesPerSecond,
          limitBytesPerSecond: report.limitBytesPerSecond,
          heldCpus: report.heldCpus,
          holdMs: report.holdMs,
        },
      };
  }
}

/** "; held back 12 times (3.4 s in all) to its budget of 5,000 frames and 8 MiB a second sent unasked" */
function heldBack(r: Extract<PressureReport, { kind: "channel_flooded" }>): string {
  if (r.holds === 0) return "";
  const budget = [
    r.messageRate > 0 ? `${count(r.messageRate)} frames` : "",
    r.messageBytesRate > 0 ? bytes(r.messageBytesRate) : "",
  ]
    .filter(Boolean)
    .join(" and ");
  const held = r.heldMs < 10_000 ? `${(r.heldMs / 1000).toFixed(1)} s` : secondsOf(r.heldMs);
  return `; berth held it back ${count(r.holds)} time${r.holds === 1 ? "" : "s"} (${held} in all)${budget === "" ? "" : ` to its budget of ${budget} a second sent unasked`}`;
}

const secondsOf = (ms: number) => `${Math.round(ms / 1000)} s`;
const count = (n: number) => n.toLocaleString("en-US");
const cores = (cpus: number | undefined) =>
  cpus === undefined ? "the host's cores" : `${cpus} core${cpus === 1 ? "" : "s"}`;
