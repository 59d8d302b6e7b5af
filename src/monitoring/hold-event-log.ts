import { NotFoundError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { HoldEvent } from "./output-holds.ts";

/** A CPU update failed because the container is gone (deleted while held): nothing to give back, nor to retry. */
export function isContainerGone(err: unknown): boolean {
  return err instanceof NotFoundError;
}

/**
 * The system log's lines for the holds of the output limit: a hold and a give-back at info, a
 * failed update as a warning — but the limit of a container deleted while held is not worth one.
 */
export function logHoldEvent(log: SystemLogger): (event: HoldEvent) => void {
  return (e) => {
    if (e.kind !== "failed")
      log.info(
        { containerId: e.containerKey, cpus: e.nanoCpus / 1e9 },
        e.kind === "held"
          ? "holding back a workload over the output rate limit"
          : "gave a workload its CPU limit back",
      );
    else if (isContainerGone(e.err))
      log.debug({ containerId: e.containerKey }, "no CPU limit to give back: the container is gone");
    else
      log.warn(
        { containerId: e.containerKey, err: e.err },
        "could not change a CPU limit; a give-back is tried again at the container's next sample",
      );
  };
}
