import { createHash } from "node:crypto";

/**
 * A PostgreSQL advisory lock's key in its two-integer form
 * (`pg_advisory_lock(space, id)`). PostgreSQL keeps the two-integer keys
 * apart from the single-bigint ones (`objsubid` 2 against 1 in `pg_locks`),
 * so no key made here can ever collide with berth's bigint locks — the
 * migration lock and the activity feed's `ACTIVITY_LOCK` — whatever the hash
 * gives.
 */
export interface LockKey {
  /** What kind of thing is locked: one of berth's reserved spaces below. */
  readonly space: number;
  /** Which one: a stable hash of its name. */
  readonly id: number;
}

/**
 * berth's reserved spaces: "ber" in ASCII, then the kind. Another
 * application sharing the database would have to pick these very first
 * integers to meet berth's keys.
 */
export const LEASE_SPACE = 0x626572_01;
export const CONTAINER_SPACE = 0x626572_02;
export const OWNER_SPACE = 0x626572_03;

/**
 * The key of `name` in `space`: the first 32 bits of its SHA-256, signed as
 * PostgreSQL's `integer` is. Stable across processes, versions and machines
 * (every berth sharing a database must derive the same key). Two container
 * ids meeting on one key (about one pair in four billion) only serialise what
 * did not need it: a wait. Two lease names meeting on one key would be worse —
 * each lease holds its own connection, so one of the two singletons would
 * never have a leader — which is why the lease names are fixed in
 * LEASE_NAMES and a test keeps their keys distinct.
 */
export function lockKey(space: number, name: string): LockKey {
  const id = createHash("sha256").update(name, "utf8").digest().readInt32BE(0);
  return { space, id };
}

/**
 * The leases of the singletons that run on one server at a time. One for all of cluster mode's: the
 * engines' events, the reconciliation, the restart policy, the health watch and re-placement follow one
 * another (a restart answers an exit an event wrote; a move is reconciled), so one server leads them all.
 */
export const LEASE_NAMES = ["steward"] as const;
export type LeaseName = (typeof LEASE_NAMES)[number];

/** The lease named `name` (LEASE_NAMES). */
export function leaseKey(name: string): LockKey {
  return lockKey(LEASE_SPACE, name);
}

/** The key that serialises operations on one container across servers. */
export function containerKey(containerId: string): LockKey {
  return lockKey(CONTAINER_SPACE, containerId);
}

/**
 * The key that serialises an owner's quota admissions across servers (PgOwnerLocks). Two owners meeting on
 * one key only wait for each other's admissions: each is still counted against its own quotas.
 */
export function ownerKey(owner: string): LockKey {
  return lockKey(OWNER_SPACE, owner);
}
