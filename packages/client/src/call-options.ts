/** Options of one call to berth. */
export interface CallOptions {
  /**
   * How long the client waits for berth's answer before failing with TIMEOUT
   * (default: the client's `requestTimeoutMs`; for long operations, as long
   * as berth may take for them — see `operationOptions`).
   */
  timeoutMs?: number;
  /** Aborts the wait (ABORTED); berth may still carry the operation out. */
  signal?: AbortSignal;
}

/** Stops listening; safe to call more than once. */
export type Unsubscribe = () => void;
