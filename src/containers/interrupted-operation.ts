import { EventEmitter } from "node:events";
import type { ContainerState } from "#protocol";
import type { ContainerRecord } from "../store/store-ports.ts";

/** The operations a crash of berth can cut half-way that a restarted berth brings to an end. */
export type InterruptedOp = "create" | "start" | "stop" | "restart" | "update" | "delete";

/**
 * An operation that berth found cut half-way when it started again (it was
 * killed, or the machine went down), and what it did about it: `finished`
 * (the delete completed, the stop or start made) or `undone` (the create
 * removed, the update's previous release back). The activity feed tells the
 * owner, since nobody received the operation's own answer.
 */
export interface InterruptedOperation {
  owner: string;
  id: string;
  name: string;
  op: InterruptedOp;
  outcome: "finished" | "undone";
  /** The state the container is in now (absent once it is gone). */
  state?: ContainerState;
  /** The release it runs now, for an update. */
  release?: number | null;
}

/**
 * Where the reconciler and the update recovery tell what they did about an
 * operation a crash cut, and the activity feed hears it: one small emitter,
 * built by the composition root, so that neither has to pass it through the
 * container manager.
 */
export class InterruptedOperations extends EventEmitter<{ interrupted: [InterruptedOperation] }> {
  /** `gone`: the container no longer exists (a delete finished, a create undone). */
  tell(
    record: ContainerRecord,
    op: InterruptedOp,
    outcome: InterruptedOperation["outcome"],
    gone = false,
  ): void {
    this.emit("interrupted", {
      owner: record.owner,
      id: record.id,
      name: record.name,
      op,
      outcome,
      ...(gone ? {} : { state: record.state, release: record.release }),
    });
  }
}
