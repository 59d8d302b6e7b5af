/**
 * Lets the client fail fast while the engine is known to be down, instead of
 * spending its whole retry budget on every call; and report an outage it finds.
 */
export interface OutageGate {
  isDown(): boolean;
  reportDown(err: unknown): void;
}
