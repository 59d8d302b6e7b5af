import type { EventEmitter } from "node:events";
import type { ContainerState } from "#protocol";
import type { ChangeNoticesEvents } from "../cluster/pg-change-notices.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ContainerStore } from "../store/store-ports.ts";

export interface StoreStateFollowerOptions {
  /** Every container's state changes, told by the store at each commit (PgChangeNotices "states"). */
  notices: Pick<EventEmitter<ChangeNoticesEvents>, "on" | "off">;
  repo: Pick<ContainerStore, "get" | "all">;
  /** Told each container's state as the store has it now; a row gone is told as `removing` (all of it freed). */
  follow: (info: { id: string; state: ContainerState }) => void;
  log: SystemLogger;
}

/**
 * With several API servers on one store: what one server keeps of every
 * container whichever server changed its state — today its stats history,
 * so that a client on any server sees the history of any of its workloads.
 * The manager's own status changes tell a server only of what it did itself;
 * the store's notices say which container changed, on any server, and each is
 * read in the order the notices came (a late read must not undo a newer one).
 * A gap in the notices (listening again) reads every row.
 */
export class StoreStateFollower {
  readonly #o: StoreStateFollowerOptions;
  #following: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: StoreStateFollowerOptions) {
    this.#o = options;
    options.notices.on("changed", this.#onChanged);
    options.notices.on("reset", this.#onReset);
  }

  /** Resolves once every change followed so far is done. */
  settled(): Promise<void> {
    return this.#following;
  }

  /** Stops following; what is being read ends on its own. Safe to call twice. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#o.notices.off("changed", this.#onChanged);
      this.#o.notices.off("reset", this.#onReset);
    }
    return this.#following;
  }

  readonly #onChanged = (id: string) =>
    this.#then(async () => {
      const record = await this.#o.repo.get(id);
      this.#o.follow(record ?? { id, state: "removing" });
    });

  readonly #onReset = (listening: boolean) => {
    if (!listening) return;
    this.#then(async () => {
      for (const record of await this.#o.repo.all()) this.#o.follow(record);
    });
  };

  #then(step: () => Promise<void>): void {
    this.#following = this.#following
      .then(() => (this.#closed ? undefined : step()))
      .catch((err: unknown) =>
        this.#o.log.warn({ err }, "could not follow a container's state from the store"),
      );
  }
}
