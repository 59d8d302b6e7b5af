/**
 * Token buckets that every berth server sharing the database takes from: an
 * owner's rate limit then holds for the owner across servers, not per server
 * (an owner with a connection to each of N servers would otherwise have N
 * times the rate). PgRateBuckets is its adapter.
 */
export interface SharedRateBuckets {
  /**
   * Takes one request from `owner`'s bucket `kind` (a full bucket holds
   * `burst`, refilled at `perMinute`): answers 0, or — taking nothing — how
   * many ms until one would pass. STORAGE_ERROR when the database cannot be
   * reached.
   */
  take(owner: string, kind: string, rate: { perMinute: number; burst: number }): Promise<number>;
  /** Safe to call twice. */
  close(): Promise<void>;
}
