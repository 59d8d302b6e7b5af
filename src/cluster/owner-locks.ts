/**
 * Serialises one owner's quota admissions across every berth server sharing
 * the database. A quota check reads what the store records plus the
 * reservations of this server's operations under way (QuotaLedger); another
 * server's reservations are in that server's memory only. So a server holds
 * an owner's lock from its first quota check for that owner until the last
 * reservation it took for them is released (which is once the store records
 * the outcome): while one server holds it, no other server has anything of
 * that owner's admitted and not yet visible in the store, and its check is
 * exact.
 *
 * Holds of one server join: the ledger already keeps checks exact within a
 * process, so an owner's concurrent operations on one server do not wait for
 * each other; only another server's wait.
 *
 * @example
 *   const hold = await locks.hold("alice"); // waits while another server admits alice's operations
 *   try { check(); } catch (err) { hold.release(); throw err; }
 *   // … once the store records what was admitted:
 *   hold.release();
 */
export interface OwnerLocks {
  /**
   * Fails with CONFLICT (retryable) when another server held the owner's
   * lock for the whole wait, and with STORAGE_ERROR when the database cannot
   * be reached; nothing is held then.
   */
  hold(owner: string): Promise<OwnerHold>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

/** One reservation's share of a hold; `release()` is idempotent, and the last one ends the hold. */
export interface OwnerHold {
  release(): void;
}
