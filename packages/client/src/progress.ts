import type { ClientCore } from "./client-core.ts";
import { newOpId } from "./op-id.ts";
import type { ContainerProgressEvent } from "./protocol/index.ts";

/** Receives each step of a long operation (create, update, rollback, restart) as berth reports it. */
export type ProgressListener = (event: ContainerProgressEvent) => void;

/**
 * Runs `operation` with `progress: { opId }` when `onProgress` is given:
 * listens to `container:progress` for that opId only (events may arrive
 * before the answer), and stops listening once the answer is in.
 */
export async function withProgress<T>(
  core: ClientCore,
  onProgress: ProgressListener | undefined,
  operation: (progress: { opId: string } | undefined) => Promise<T>,
): Promise<T> {
  if (!onProgress) return operation(undefined);
  const opId = newOpId();
  const listener = (event: ContainerProgressEvent) => {
    if (event.opId === opId) onProgress(event);
  };
  core.socket.on("container:progress", listener);
  try {
    return await operation({ opId });
  } finally {
    core.socket.off("container:progress", listener);
  }
}
