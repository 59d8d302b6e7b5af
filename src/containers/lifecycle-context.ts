import type { ContainerInfo, ContainerState } from "#protocol";
import type { AdmissionPort } from "../admission/admission.ts";
import { BerthError } from "../errors/berth-error.ts";
import { ConflictError, NotFoundError } from "../errors/errors.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import type { ImageCatalog } from "./image-catalog.ts";
import type { ContainerManagerOptions } from "./lifecycle-types.ts";
import type { OperationQueue } from "./operation-queue.ts";
import type { OperationTracker } from "./operation-tracker.ts";
import type { StateWriter } from "./state-writer.ts";

/**
 * What every part of the lifecycle shares, held by the ContainerManager and
 * handed to the files that each carry one of its ideas (create, start, stop,
 * restart, delete, engine sync, the updater's steps): the options, the
 * per-container operation queue, the tracker that reports outcomes, the
 * state writer, admission and the image catalog.
 */
export interface LifecycleContext {
  readonly options: ContainerManagerOptions;
  readonly log: SystemLogger;
  readonly queue: OperationQueue;
  readonly operations: OperationTracker;
  readonly states: StateWriter;
  readonly admission: AdmissionPort;
  readonly images: ImageCatalog;
  /** The container as clients see it (ContainerManager.info). */
  info(record: ContainerRecord): ContainerInfo;
  /** Forgets what is held in memory of a deleted container (the latest health it was told). */
  forget(id: string): void;
}

/** The container's current record; NOT_FOUND when it is gone. */
export async function freshRecord(ctx: LifecycleContext, id: string): Promise<ContainerRecord> {
  const record = await ctx.options.repo.get(id);
  if (!record) throw new NotFoundError();
  return record;
}

/** The engine's id for the container; CONFLICT while its create has not made it yet. */
export function dockerIdOf(record: ContainerRecord): string {
  if (!record.dockerId) throw new ConflictError("The container is still being created.");
  return record.dockerId;
}

/** CONFLICT unless the container is in one of the states `op` may begin from. */
export function requireState(
  record: ContainerRecord,
  allowed: ReadonlySet<ContainerState>,
  op: string,
): void {
  if (!allowed.has(record.state)) {
    throw new ConflictError(`Cannot ${op} a container that is ${record.state}.`, {
      retryable: false,
      details: { state: record.state },
    });
  }
}

/**
 * The state to record after an engine call failed: unchanged when the engine
 * could not be reached (nothing happened; a resync tells the truth later),
 * `failed` when it refused.
 */
export function stateAfterFailure(err: unknown, before: ContainerState): ContainerState {
  return err instanceof BerthError && err.code === "DOCKER_UNAVAILABLE" ? before : "failed";
}
