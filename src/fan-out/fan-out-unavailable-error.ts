/**
 * Redis is unreachable, so the adapter is told at once instead of waiting for
 * it. Never reaches a client: Socket.IO's cluster adapter catches it and
 * pushes to this server's clients alone; a session look-up that fails starts
 * a fresh session.
 */
export class FanOutUnavailableError extends Error {
  constructor() {
    super("Redis is unreachable: fan-out across API servers is down");
    this.name = "FanOutUnavailableError";
  }
}
