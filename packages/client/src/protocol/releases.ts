/** The steps of a gated restart, in order; `health` only when a health check is set. */
export const GATE_STEPS = ["stop", "switch", "start", "ready", "health"] as const;
export type GateStep = (typeof GATE_STEPS)[number];

/**
 * The steps an update or rollback reports as it goes: its own, then — when
 * the new release fails its gate — those that put the previous release back,
 * under `rollback:` (`rollback:stop`, `rollback:switch`, `rollback:start`,
 * `rollback:ready`; only `rollback:start` and `rollback:ready` when the
 * failure came before the switch, since the old release is still in place).
 */
export const UPDATE_STEPS = [
  "validate",
  "write",
  ...GATE_STEPS,
  ...GATE_STEPS.map((s) => `rollback:${s}` as const),
] as const;
export type UpdateStep = (typeof UPDATE_STEPS)[number];

/** The answer to an update or a rollback. */
export interface UpdateResult {
  id: string;
  release: number;
  previousRelease: number | null;
  /** Milliseconds each step took. */
  timings: Record<"validate" | "write" | GateStep | "total", number>;
}

export type ReleaseStatus = "pending" | "active" | "previous" | "failed" | "rolled-back";

/** One release of a container's code, as `container:releases` lists it. */
export interface ReleaseInfo {
  number: number;
  status: ReleaseStatus;
  createdAt: number;
  createdBy: string;
  bytes: number;
  files: number;
  hash: string;
}
