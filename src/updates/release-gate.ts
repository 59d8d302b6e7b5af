import type { z } from "zod";
import type { UpdateStep } from "#protocol";
import type { HealthCheck } from "../containers/container-spec.ts";
import type { LifecycleSteps } from "../containers/lifecycle-steps.ts";
import { BerthError } from "../errors/berth-error.ts";
import type { StepTimer } from "../progress/step-timer.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { partialMatch } from "../util/partial-match.ts";
import { describeGateCause, type GateFailure } from "./update-errors.ts";

export type HealthCheckSpec = z.infer<typeof HealthCheck>;

/** The channel requests a health gate sends. */
export interface GateChannel {
  request(id: string, data: unknown, opts?: { timeoutMs?: number }): Promise<unknown>;
}

/** How long a health check waits for its answer when its spec does not say. */
const DEFAULT_HEALTH_TIMEOUT_MS = 5_000;

/**
 * The gate a release passes before it is committed: the workload starts,
 * says hello within `readyTimeoutMs` and, when a health check is set,
 * answers it as expected. The failure, or undefined when it passed. Its steps
 * are `start`, `ready`, `health`, under `prefix` (`rollback:` when it brings
 * the previous release back), each measured by `timer`.
 */
export async function passGate(
  gate: { lifecycle: LifecycleSteps; channel: GateChannel },
  record: ContainerRecord,
  readyTimeoutMs: number,
  healthCheck: HealthCheckSpec | undefined,
  timer: StepTimer<UpdateStep>,
  prefix: "" | "rollback:",
): Promise<GateFailure | undefined> {
  const { lifecycle, channel } = gate;
  let since: number;
  timer.start(`${prefix}start`);
  try {
    since = await lifecycle.start(record);
    timer.done();
  } catch (err) {
    timer.fail();
    return {
      failedStep: "restart",
      cause: "start_failed",
      output: [],
      message: gateErrorText(lifecycle, record, err),
    };
  }
  timer.start(`${prefix}ready`);
  try {
    await lifecycle.waitUntilReady(record, since, readyTimeoutMs);
    timer.done();
  } catch (err) {
    timer.fail();
    const details = err instanceof BerthError ? (err.details ?? {}) : {};
    const cause = typeof details.cause === "string" ? details.cause : "timeout";
    const failure: GateFailure = {
      failedStep: "ready",
      cause,
      output: Array.isArray(details.output)
        ? (details.output as string[])
        : await lifecycle.recentOutput(record, since),
      message: describeGateCause(cause, details.exitCode),
    };
    if (typeof details.exitCode === "number") failure.exitCode = details.exitCode;
    return failure;
  }
  if (!healthCheck) return undefined;
  timer.start(`${prefix}health`);
  try {
    const answer = await channel.request(record.id, healthCheck.request, {
      timeoutMs: healthCheck.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS,
    });
    if (healthCheck.expect !== undefined && !partialMatch(answer, healthCheck.expect)) {
      timer.fail();
      return {
        failedStep: "health",
        cause: "health_mismatch",
        output: await lifecycle.recentOutput(record, since),
        message: "its health check answered, but not as expected",
      };
    }
    timer.done();
    return undefined;
  } catch (err) {
    timer.fail();
    return {
      failedStep: "health",
      cause: "health_error",
      output: await lifecycle.recentOutput(record, since),
      message: `its health check failed: ${gateErrorText(lifecycle, record, err)}`,
    };
  }
}

/**
 * An error's message as the failed gate quotes it. A health check's error
 * comes back from the workload, so whatever it says goes through the one
 * step all workload text takes before anyone sees it: sanitised, then
 * redacted with the owner's secrets, then cut (presentOutputLine), so
 * neither an escape sequence nor a secret split by one (`canar\x1b[0my-…`)
 * reaches the answer. Anything but a BerthError stays in the system log.
 */
export function gateErrorText(lifecycle: LifecycleSteps, record: ContainerRecord, err: unknown): string {
  if (!(err instanceof BerthError)) return "an internal error";
  return lifecycle.presentWorkloadText(record, err.message);
}
