import type { ContainerInfo, ContainerState } from "#protocol";
import type { ContainerRecord, ContainerStore } from "../store/store-ports.ts";
import type { StatusChange } from "./lifecycle-types.ts";
import { assertTransition, type TransitionCause } from "./state-transitions.ts";

/**
 * The one place a container's state is written: the move is checked against
 * the transition table (state-transitions.ts) before anything is written,
 * the store is written next, and only then is the record changed and the
 * change told — so that a refused move or a failed write leaves the record
 * as it was and tells no one of a change.
 */
export class StateWriter {
  readonly #repo: ContainerStore;
  readonly #info: (record: ContainerRecord) => ContainerInfo;
  readonly #tell: (change: StatusChange) => void;
  readonly #assertHeld: (id: string) => void;

  /**
   * `assertHeld` throws when this server may no longer write the container (cluster mode: its turn lost
   * the container's lock, and another server may be acting on it): a fence before every write.
   */
  constructor(
    repo: ContainerStore,
    info: (record: ContainerRecord) => ContainerInfo,
    tell: (change: StatusChange) => void,
    assertHeld: (id: string) => void = () => {},
  ) {
    this.#assertHeld = assertHeld;
    this.#repo = repo;
    this.#info = info;
    this.#tell = tell;
  }

  /**
   * Moves `record` to `to` for `cause` ("operation": a step of berth's own;
   * "engine": what an engine event, a resync or reconciliation saw), with `changes`.
   */
  async write(
    record: ContainerRecord,
    to: ContainerState,
    reason: string,
    cause: TransitionCause,
    changes: Partial<ContainerRecord> = {},
    extra: { oomKilled?: boolean } = {},
  ): Promise<void> {
    const from = record.state;
    assertTransition(from, to, cause);
    this.#assertHeld(record.id);
    // Anything but an exit answers the restart the policy had due (RestartSupervisor): a start, a stop, a delete.
    const written = to === "exited" ? changes : { ...changes, restartDueAt: null };
    // The store first: a failed write leaves the record as it was, and tells no one of a change.
    await this.#repo.update(record.id, { ...written, state: to });
    Object.assign(record, written, { state: to });
    if (from !== to) this.announce(record, from, reason, extra);
  }

  /** Tells listeners of a change already in the store (a new container: `from` "new"). */
  announce(
    record: ContainerRecord,
    from: ContainerState | "new",
    reason: string,
    extra: { oomKilled?: boolean } = {},
  ): void {
    this.#tell({ info: this.#info(record), from, reason, ...extra });
  }
}
