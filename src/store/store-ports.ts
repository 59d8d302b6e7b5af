import type { ActivityEntry, ContainerState, HealthState, ReleaseStatus } from "#protocol";
import type { ActivityDraft } from "../activity/activity-entry.ts";
import type { ResourceDefaults, StoredUsage } from "../admission/container-usage.ts";
import type { NodeLoad } from "../cluster/placement.ts";
import type { StoredSpec } from "../containers/container-spec.ts";

/**
 * What berth keeps, as ports with one implementation per database (SQLite by
 * default, PostgreSQL with BERTH_DATABASE_URL). Every method is async: a
 * network database answers later, and a service written against these
 * interfaces must not care which one it has.
 *
 * Implementations map their database's own failures: a full or read-only
 * disk (or an unreachable server) becomes STORAGE_ERROR; a name an owner
 * already uses becomes `NameTakenError`; anything else passes through.
 */

/** One container as berth keeps it. */
export interface ContainerRecord {
  id: string;
  owner: string;
  name: string;
  image: string;
  spec: StoredSpec;
  dockerId: string | null;
  dockerName: string;
  state: ContainerState;
  health: HealthState;
  uid: number;
  createdAt: number;
  startedAt: number | null;
  exitCode: number | null;
  release: number | null;
  /** Restarts since create (ContainerInfo.restartCount); written with the state that counted it. */
  restartCount: number;
  /**
   * When berth's restart policy is due to start it again after an exit (RestartSupervisor), so that
   * a berth killed during the back-off has its successor start it; null when none is due. Cleared by
   * any change of state away from `exited` (a start, a stop, a delete answers the exit).
   */
  restartDueAt?: number | null;
  /** The restart policy's attempts since the last good run, kept across restarts of berth. */
  restartAttempts?: number;
}

export interface ListQuery {
  owner?: string;
  state?: ContainerState;
  health?: HealthState;
  namePrefix?: string;
  after?: { createdAt: number; id: string };
  limit: number;
}

export type ContainerChanges = Partial<Omit<ContainerRecord, "id">>;

/** Containers. Secret values are sealed on the way in and opened on the way out: no database holds them in plain text. */
export interface ContainerStore {
  get(id: string): Promise<ContainerRecord | undefined>;
  getByName(owner: string, name: string): Promise<ContainerRecord | undefined>;
  /** Every container with this name, across owners (for an admin addressing one by name). */
  findByName(name: string): Promise<ContainerRecord[]>;
  /** Rejects with `NameTakenError` when the owner already has the name, `UidTakenError` when the uid is taken. */
  insert(record: ContainerRecord): Promise<void>;
  update(id: string, changes: ContainerChanges): Promise<void>;
  delete(id: string): Promise<void>;
  /**
   * The restart policy's bookkeeping, in one atomic write: `restartDueAt` (and
   * `restartAttempts` when given). A due start (`at` not null) is written only
   * while the container is `exited`, checked in the same statement: a stop, a
   * start or a delete written meanwhile answered the exit. Answers whether it wrote.
   */
  setRestartDue(id: string, due: { at: number | null; attempts?: number }): Promise<boolean>;
  isUidTaken(uid: number): Promise<boolean>;
  /** How many containers are in each state and health (no spec is read or unsealed). */
  tally(): Promise<Array<{ state: ContainerState; health: HealthState; count: number }>>;
  /** Every container, oldest first. */
  all(): Promise<ContainerRecord[]>;
  /** One page, ordered by (createdAt, id). */
  list(query: ListQuery): Promise<ContainerRecord[]>;
  /**
   * Makes `release` the container's active release in one transaction: its
   * row's `release`, the release's status `active`, and the one it replaces
   * (when there is one and it differs) `replacedStatus`. Either all of it is
   * written or none.
   */
  switchRelease(id: string, release: number, replacedStatus: "previous" | "rolled-back"): Promise<void>;
}

export interface ReleaseRecord {
  containerId: string;
  number: number;
  status: ReleaseStatus;
  createdAt: number;
  createdBy: string;
  bytes: number;
  files: number;
  hash: string;
  /**
   * The digest (`sha256:<hex>`) of the release's packed content in `Store.releaseContents`, which
   * must have been put first; null when its content is kept on its host only. May be left out
   * when inserting (null); always read back.
   */
  contentDigest?: string | null;
}

/**
 * Release metadata; the trees themselves live on disk under `<data>/code/<id>/releases/<n>/`, and
 * (cluster mode) packed in `Store.releaseContents` under the row's `contentDigest`.
 */
export interface ReleaseStore {
  insert(release: ReleaseRecord): Promise<void>;
  get(containerId: string, number: number): Promise<ReleaseRecord | undefined>;
  /** Newest first. */
  list(containerId: string): Promise<ReleaseRecord[]>;
  /** Every release left `pending`, across containers: updates a crash interrupted. */
  pending(): Promise<ReleaseRecord[]>;
  pendingOf(containerId: string): Promise<ReleaseRecord[]>;
  /** Marks a release failed only while it is still `pending`; true when it was. */
  failPending(containerId: string, number: number): Promise<boolean>;
  nextNumber(containerId: string): Promise<number>;
  setStatus(containerId: string, number: number, status: ReleaseStatus): Promise<void>;
  delete(containerId: string, number: number): Promise<void>;
}

/** How long `sweepUnreferenced` leaves an unreferenced content after its last put, by default. */
export const CONTENT_SWEEP_GRACE_MS = 10 * 60_000;

/**
 * Releases' contents, content-addressed: the packed form of a release
 * (packRelease) under its digest (`sha256:<hex>` of the bytes), one row per
 * digest however many releases name it — so a release moved to another node,
 * or rolled back to, is fetched by its name and checked against it. A
 * release row names its content (`ReleaseRecord.contentDigest`), and a
 * content stays while a release row names it: the database refuses to drop
 * it, and the sweep never tries.
 *
 * @example
 *   const { bytes, digest } = packRelease(entries);
 *   await store.releaseContents.put(digest, bytes);
 *   await store.releases.insert({ ...release, contentDigest: digest });
 *   const back = await store.releaseContents.get(digest); // on another node's behalf
 */
export interface ReleaseContentStore {
  /**
   * Stores `bytes` under `digest`, which the store checks against the bytes
   * itself: a digest that is not theirs is refused with
   * `ContentDigestMismatchError`, and nothing is written. Idempotent: the
   * same digest again (from this server or another, at the same moment)
   * keeps one row, and counts as its last put for the sweep's grace.
   */
  put(digest: string, bytes: Buffer): Promise<void>;
  /**
   * The bytes stored under `digest`, checked against it on the way out (a row
   * that no longer matches is `ContentDigestMismatchError`); undefined when none.
   */
  get(digest: string): Promise<Buffer | undefined>;
  has(digest: string): Promise<boolean>;
  /**
   * Drops every content no release row names that was last put at least
   * `graceMs` ago (CONTENT_SWEEP_GRACE_MS by default); answers how many went.
   * The grace keeps a content that was just put for a release row about to
   * be inserted: put first (again, even when `has` says it is there: a put
   * moves its grace on), then the row. Should a row name a content the sweep
   * is dropping at that very moment, the row's reference (a foreign key)
   * decides: a row that came first keeps the content, and a row that came
   * second is refused and written not at all — never a row whose content is gone.
   */
  sweepUnreferenced(options?: { graceMs?: number }): Promise<number>;
}

export interface HistoryQuery {
  /** undefined: every owner (an admin). */
  owner: string | undefined;
  containerId?: string | undefined;
  afterId?: number | undefined;
  /** The newest `limit` entries (after `afterId`) rather than the first ones; still oldest first. */
  newest?: boolean | undefined;
  limit: number;
}

/**
 * The activity feed's history. Ids grow in commit order: an entry with a
 * smaller id is never made visible after one with a larger id, so a client
 * catching up with `afterId` cannot skip one that committed late.
 */
export interface ActivityStore {
  insert(draft: ActivityDraft, ts: number): Promise<ActivityEntry>;
  /** Entries after `afterId`, oldest first: exactly what a client missed, in order. */
  history(query: HistoryQuery): Promise<ActivityEntry[]>;
  /** Deletes entries older than `olderThan` and all but the newest `keepPerOwner` of each owner; how many went. */
  prune(olderThan: number, keepPerOwner: number): Promise<number>;
}

/** Small key/value facts about this berth instance. */
export interface MetaStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /**
   * Sets `key` to `value` unless it has a value already, and returns the value
   * it has now: of several berth servers claiming at once, the first write
   * wins and every one of them reads the same value back.
   */
  claim(key: string, value: string): Promise<string>;
}

/** What each of an owner's containers holds (state, resources asked for, code bytes kept), for quota checks. */
export interface OwnerUsageStore {
  containersOf(owner: string): Promise<StoredUsage[]>;
}

/**
 * Where a workload runs in a cluster, and under which generation. The
 * generation is the fencing token: 1 at a container's first placement, one
 * more at every placement after it, never given twice for one container (a
 * removal keeps the count), so a copy left running under a lower generation
 * is known to be stale.
 */
export interface Placement {
  containerId: string;
  /** The Swarm node id (`docker node ls`) of the node it runs on. */
  nodeId: string;
  generation: number;
  /** When this generation was placed, in ms since the epoch (on PostgreSQL the database's clock, one for every API server). */
  placedAt: number;
}

/**
 * Placements (cluster mode). Every change is a compare-and-set on the
 * generation, made in one statement, so that two API servers placing one
 * container at once end with exactly one placement: the other is refused
 * with `StalePlacementError` and writes nothing. A placement never outlives
 * its container: deleting the container's row takes it along.
 */
export interface PlacementStore {
  /**
   * Places the container on `nodeId` under the next generation, only while
   * its current generation is still `expectedGeneration` (0: not placed now,
   * as `current` answers undefined). Answers the new placement. Rejects with
   * `StalePlacementError` when another placement (or a removal) came first,
   * `ContainerGoneError` when the container has no row.
   *
   * @example
   *   const now = await store.placements.current(id);
   *   await store.placements.place(id, node.id, now?.generation ?? 0);
   */
  place(containerId: string, nodeId: string, expectedGeneration: number): Promise<Placement>;
  current(containerId: string): Promise<Placement | undefined>;
  /** The containers placed on a node, by container id: what a lost node's re-placement moves. */
  onNode(nodeId: string): Promise<Placement[]>;
  /** Every node that holds a placement now (any state: a stopped workload's container is still there), by id. */
  nodes(): Promise<string[]>;
  /**
   * Per node, the workloads placed there that reserve room (in a state of
   * `RESERVING_STATES`), with their memory and CPU limits summed: their
   * specs' own, or `defaults` where a spec leaves them to the server. Nodes
   * where nothing reserves room are left out. The map `choosePlacement` takes.
   */
  loads(defaults: ResourceDefaults): Promise<Map<string, NodeLoad>>;
  /**
   * Takes the container's placement away (it runs nowhere now), only if it is
   * still at `expectedGeneration` — the one the caller read: a server acting
   * on an old view must not take away a newer placement another made
   * (StalePlacementError, nothing written). Its generation is kept, so that a
   * later placement goes on counting from it. Answers false when it was not placed.
   */
  remove(containerId: string, expectedGeneration: number): Promise<boolean>;
}

/** One open database: its repositories, and `close()` (safe to call twice). */
export interface Store {
  readonly kind: "sqlite" | "postgres";
  readonly containers: ContainerStore;
  readonly releases: ReleaseStore;
  readonly releaseContents: ReleaseContentStore;
  readonly activity: ActivityStore;
  readonly meta: MetaStore;
  readonly usage: OwnerUsageStore;
  readonly placements: PlacementStore;
  close(): Promise<void>;
}
