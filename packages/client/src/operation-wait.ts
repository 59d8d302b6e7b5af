import type { CallOptions } from "./call-options.ts";
import type { ClientCore } from "./client-core.ts";
import type { HealthCheck } from "./protocol/index.ts";

/** The longest berth may wait for a workload's hello: its maximum for BERTH_READY_TIMEOUT_MS and `readyTimeoutMs`. */
export const MAX_READY_WAIT_MS = 600_000;
/** The longest berth may wait for a container to stop: its maximum for BERTH_STOP_TIMEOUT_SEC and `timeoutSec`. */
export const MAX_STOP_WAIT_MS = 600_000;
/** berth's wait for a health check's answer when `healthCheck.timeoutMs` is left out. */
const DEFAULT_HEALTH_WAIT_MS = 5_000;
/** Beyond berth's own waits: the engine's work (creating, unpacking code, pulling nothing) and the round trip. */
export const OPERATION_MARGIN_MS = 60_000;

/** What a long operation may wait for on berth; a wait left out is berth's longest. */
export interface OperationSteps {
  /** It stops the container, with this `timeoutSec` (undefined: berth's configured one, up to its maximum). */
  stop?: { timeoutSec?: number | undefined };
  /** It waits for the workload's hello, up to `readyTimeoutMs` (undefined: berth's configured one). */
  ready?: { readyTimeoutMs?: number | undefined };
  /** It asks the new release's health check. */
  health?: HealthCheck | undefined;
  /** A failed attempt is undone (an update's automatic rollback): a stop and a readiness wait more. */
  undoable?: boolean;
}

/**
 * The call options of a long operation (create, start, stop, restart,
 * delete, update, rollback): unless the caller gave `timeoutMs`, the client waits as
 * long as berth may legitimately take — each step's own timeout, or the one
 * berth says it uses (`server:info` `timeouts`), or berth's longest — plus
 * OPERATION_MARGIN_MS, and never less than `requestTimeoutMs`. So a client
 * does not give up (TIMEOUT) on an operation that berth is still carrying out.
 *
 * @example
 *   core.call("container:restart", { id }, operationOptions(core, options, { stop: {}, ready: {} }));
 */
export function operationOptions(core: ClientCore, options: CallOptions, steps: OperationSteps): CallOptions {
  if (options.timeoutMs !== undefined) return options;
  // berth's own waits, from server:info; its longest when connected to a berth that does not say.
  const timeouts = core.info?.timeouts;
  const stop = steps.stop
    ? (steps.stop.timeoutSec ?? timeouts?.stopSec ?? MAX_STOP_WAIT_MS / 1000) * 1000
    : 0;
  const ready = steps.ready ? (steps.ready.readyTimeoutMs ?? timeouts?.readyMs ?? MAX_READY_WAIT_MS) : 0;
  const health = steps.health ? (steps.health.timeoutMs ?? DEFAULT_HEALTH_WAIT_MS) : 0;
  const once = stop + ready + health;
  // An undo (the automatic rollback) brings back code that worked: berth gives it at least its own readiness
  // wait, however short the caller asked for the new code's, and no health check.
  const undo = steps.undoable ? stop + Math.max(ready, timeouts?.readyMs ?? MAX_READY_WAIT_MS) : 0;
  const wait = once + undo + OPERATION_MARGIN_MS;
  return { ...options, timeoutMs: Math.max(core.requestTimeoutMs, wait) };
}
