/** Options of one call to berth. */
export interface CallOptions {
  /**
   * How long the client waits for berth's answer before failing with TIMEOUT
   * (default: the client's `requestTimeoutMs`; for create, start, stop,
   * restart, delete, update and rollback, as long as berth may take for them:
   * its ready and stop timeouts, up to their maxima, plus a minute).
   */
  timeoutMs?: number;
  /** Aborts the wait (ABORTED); berth may still carry the operation out. */
  signal?: AbortSignal;
}

/** Stops listening; safe to call more than once. */
export type Unsubscribe = () => void;
