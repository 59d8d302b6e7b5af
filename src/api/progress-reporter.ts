import type { ContainerProgressEvent } from "#protocol";
import type { OnStep } from "../progress/step-timer.ts";
import type { BerthSocket } from "./register-handler.ts";

/**
 * The `onStep` of an operation that asked for progress: each step becomes a
 * `container:progress` with the caller's `opId`, sent to the calling
 * connection alone (not to its owner's room: another connection of the same
 * owner did not ask). Sent like an answer — a handful per operation, never
 * dropped by the StreamGuard — and kept out of the session-recovery store
 * (TRANSIENT_EVENTS): once the answer is in, the steps have no further use.
 * Without `progress`, undefined: nothing is measured for anyone.
 */
export function progressTo(socket: BerthSocket, progress: { opId: string } | undefined): OnStep | undefined {
  if (!progress) return undefined;
  const { opId } = progress;
  return ({ id, step, status, ms }) => {
    if (!socket.connected) return;
    // The services name their steps with the contract's unions (CreateStep, UpdateStep); OnStep itself is generic.
    const event: ContainerProgressEvent = { opId, id, step: step as ContainerProgressEvent["step"], status };
    if (ms !== undefined) event.ms = ms;
    socket.emit("container:progress", event);
  };
}
