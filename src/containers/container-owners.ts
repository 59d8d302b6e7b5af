import type { EventEmitter } from "node:events";
import { BerthError } from "../errors/berth-error.ts";
import { NotFoundError } from "../errors/errors.ts";
import type { ContainerStore } from "../store/store-ports.ts";
import type { Actor } from "./actor.ts";
import { isContainerId } from "./container-id.ts";
import { resolveContainer } from "./resolve-container.ts";

/**
 * The store's notices of container rows (PostgreSQL: PgChangeNotices "states",
 * a notice at each commit that makes or removes a row or changes its state):
 * `changed` names the container; `reset` says that whatever was learnt from
 * them before cannot be trusted, and whether they are heard again.
 */
export interface ContainerChangeEvents {
  changed: [containerId: string];
  reset: [listening: boolean];
}
export type ContainerChangeNotices = Pick<EventEmitter<ContainerChangeEvents>, "on">;

/**
 * How many containers' latest notices are noted while reads are under way. Under load reads may overlap
 * for a long time; past this many, the notes are dropped and the reads under way keep nothing (a read
 * costs what it did before memory): the notes stay bounded whatever the store tells.
 */
const MAX_NOTED = 10_000;

/** What is kept of a container: the two facts that never change while its row lives. */
interface Known {
  owner: string;
  name: string;
}

/**
 * Who owns each container, kept in memory so that the hot per-workload calls
 * (`container:request`, `container:send`) are authorised without a round trip
 * to the store. A container's owner and name never change and its id is never
 * used again, so what was read stays true until the row is removed; the store
 * tells each removal (`changed`), and it is forgotten then — on every API
 * server, and at once on the one that deleted it (`forget`). While the notices
 * are not heard (SQLite, whose reads cost less than this upkeep; or a
 * PostgreSQL connection being made again) nothing is kept and every lookup
 * reads the store, exactly as `resolveContainer` does.
 *
 * A read that a notice of its container overtook, or that spans a `reset`, is
 * not kept: what it read may be a row removed since. Only hits for the actor's
 * own containers (or any, for the admin) answer from memory: another owner's
 * container is read from the store like one that does not exist, so that the
 * speed of the answer tells nobody it exists.
 *
 * ```ts
 * const owners = new ContainerOwners(store.containers, stateNotices);
 * const answer = await owners.reach(actor, "weather-bot", (id) => channel.request(id, data));
 * ```
 */
export class ContainerOwners {
  readonly #repo: Pick<ContainerStore, "get" | "getByName" | "findByName">;
  readonly #byId = new Map<string, Known>();
  /** `owner \0 name` → id, for an owner naming their own container. */
  readonly #byName = new Map<string, string>();
  #listening = false;
  /** Every reset counts, and every dropping of the notes: a read across one keeps nothing. */
  #epoch = 0;
  /** Every notice counts; while reads are under way, the count at each container's latest notice is noted. */
  #notices = 0;
  #reads = 0;
  readonly #noticedAt = new Map<string, number>();

  constructor(
    repo: Pick<ContainerStore, "get" | "getByName" | "findByName">,
    notices?: ContainerChangeNotices,
  ) {
    this.#repo = repo;
    notices?.on("changed", (id) => this.forget(id));
    notices?.on("reset", (listening) => {
      this.#byId.clear();
      this.#byName.clear();
      this.#epoch++;
      this.#listening = listening;
    });
  }

  /**
   * The id of the container `ref` (an id or a name) names, as `actor` may see
   * it: NOT_FOUND otherwise, and a name several owners use is the admin's
   * VALIDATION error, as `resolveContainer`. `remembered` when memory answered.
   */
  async find(actor: Actor, ref: string): Promise<{ id: string; remembered: boolean }> {
    const id = this.#recall(actor, ref);
    if (id !== undefined) return { id, remembered: true };
    return { id: await this.#read(actor, ref), remembered: false };
  }

  /**
   * Runs `call` with the id of the container `ref` names, as `actor` may reach
   * it. When memory answered and the call fails, the store is asked whether the
   * container is still there: memory may be a notice behind a delete made on
   * another server, and a call to a deleted container answers NOT_FOUND, not
   * the channel's error for a workload that is gone. Not when the workload
   * itself answered with an error (WORKLOAD_ERROR): it was there to answer.
   */
  async reach<T>(actor: Actor, ref: string, call: (id: string) => Promise<T>): Promise<T> {
    const { id, remembered } = await this.find(actor, ref);
    if (!remembered) return call(id);
    try {
      return await call(id);
    } catch (err) {
      if (err instanceof BerthError && err.code === "WORKLOAD_ERROR") throw err;
      // A store that cannot answer now leaves the call's own error to tell.
      const gone = await this.#repo.get(id).then(
        (record) => record === undefined,
        () => false,
      );
      if (!gone) throw err;
      this.forget(id);
      throw new NotFoundError();
    }
  }

  /** Forgets a container (its row was removed, or changed): told by the store, or by this server at its own delete. */
  forget(containerId: string): void {
    this.#notices++;
    if (this.#reads > 0) {
      if (this.#noticedAt.size >= MAX_NOTED) {
        this.#noticedAt.clear();
        this.#epoch++;
      }
      this.#noticedAt.set(containerId, this.#notices);
    }
    const known = this.#byId.get(containerId);
    if (!known) return;
    this.#byId.delete(containerId);
    const key = nameKey(known.owner, known.name);
    if (this.#byName.get(key) === containerId) this.#byName.delete(key);
  }

  /** How many containers are kept (tests). Bounded by the containers that exist: the store tells each removal. */
  get size(): number {
    return this.#byId.size;
  }

  #recall(actor: Actor, ref: string): string | undefined {
    if (!this.#listening) return undefined;
    if (isContainerId(ref)) {
      const known = this.#byId.get(ref);
      return known && (actor.admin || known.owner === actor.owner) ? ref : undefined;
    }
    // The admin's names are looked up across owners (several may use one): always the store's.
    return actor.admin ? undefined : this.#byName.get(nameKey(actor.owner, ref));
  }

  async #read(actor: Actor, ref: string): Promise<string> {
    this.#reads++;
    const [notices, epoch] = [this.#notices, this.#epoch];
    try {
      const { id, owner, name } = await resolveContainer(this.#repo, actor, ref);
      const overtaken = (this.#noticedAt.get(id) ?? 0) > notices;
      if (this.#listening && epoch === this.#epoch && !overtaken) {
        this.#byId.set(id, { owner, name });
        this.#byName.set(nameKey(owner, name), id);
      }
      return id;
    } finally {
      if (--this.#reads === 0) this.#noticedAt.clear();
    }
  }
}

/** An owner's name holds no NUL (owner-name.ts): one key per owner and name, whatever a client's ref holds. */
function nameKey(owner: string, name: string): string {
  return `${owner}\u0000${name}`;
}
