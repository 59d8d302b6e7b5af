/** Options of one call to berth. */
export interface CallOptions {
  /** How long the client waits for berth's answer before failing with TIMEOUT (default: the client's `requestTimeoutMs`). */
  timeoutMs?: number;
  /** Aborts the wait (ABORTED); berth may still carry the operation out. */
  signal?: AbortSignal;
}

/** Stops listening; safe to call more than once. */
export type Unsubscribe = () => void;
