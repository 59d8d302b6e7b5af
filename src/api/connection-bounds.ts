import type { SystemLogger } from "../logging/system-logger.ts";
import { ConnectionClosedError, ReadsInFlightError } from "./connection-limit-errors.ts";
import {
  type ConnectionLimits,
  type ConnectionLimitsConfig,
  MAX_READS_IN_FLIGHT,
} from "./connection-limits.ts";
import { EngineOutbound } from "./engine-outbound.ts";
import { InFlightLimit } from "./in-flight-limit.ts";
import { InOrder } from "./in-order.ts";
import type { BerthSocket } from "./register-handler.ts";
import { StreamGuard } from "./stream-guard.ts";
import { SubscriptionCap } from "./subscription-cap.ts";
import type { Subscriptions } from "./subscriptions.ts";

/**
 * Sets up the bounds of each connection as it connects (ConnectionLimits:
 * its outbound buffer, its calls and large reads in flight, its
 * subscriptions, a signal for its end) and takes them down when it
 * disconnects. Keeps each connected socket's StreamGuard, for the pushes that
 * go to a room at once (ServerPushes) and for the buffered bytes berth
 * reports.
 *
 * @example
 *   const bounds = new ConnectionBounds(config.limits, subscriptions);
 *   io.on("connection", (socket) => registerContainerHandlers(socket, …, bounds.setUp(socket, log)));
 */
export class ConnectionBounds {
  readonly #limits: ConnectionLimitsConfig;
  readonly #subscriptionCap: SubscriptionCap;
  /** Each connection's StreamGuard, by socket id. */
  readonly #guards = new Map<string, StreamGuard>();

  constructor(limits: ConnectionLimitsConfig, subscriptions: Subscriptions) {
    this.#limits = limits;
    this.#subscriptionCap = new SubscriptionCap(limits.maxSubscriptions, subscriptions);
  }

  /** The bounds of `socket`, which has just connected; released when it disconnects. */
  setUp(socket: BerthSocket, log: SystemLogger): ConnectionLimits {
    const closed = new AbortController();
    socket.once("disconnect", () => closed.abort(new ConnectionClosedError()));
    const outbound = new EngineOutbound(socket.conn);
    const guard = new StreamGuard(outbound, this.#limits, {
      notify: (event) => socket.emit("container:dropped", event),
      disconnect: (report) => {
        log.warn(
          { ...report, graceMs: this.#limits.graceMs },
          "disconnected a client that does not read: over its buffer bound",
        );
        socket.disconnect(true);
        outbound.terminate();
      },
    });
    this.#guards.set(socket.id, guard);
    socket.on("disconnect", () => {
      guard.close();
      outbound.close();
      if (this.#guards.get(socket.id) === guard) this.#guards.delete(socket.id);
    });
    return {
      closed: closed.signal,
      guard,
      inFlight: new InFlightLimit(this.#limits.maxRequestsInFlight),
      reads: new InFlightLimit(MAX_READS_IN_FLIGHT, (max) => new ReadsInFlightError(max)),
      subscriptions: this.#subscriptionCap,
      inOrder: new InOrder(),
    };
  }

  /** The StreamGuard of the connection `socketId` (undefined when it is not connected). */
  guardOf(socketId: string): StreamGuard | undefined {
    return this.#guards.get(socketId);
  }

  /** Bytes buffered now for the connection `socketId` (undefined when it is not connected). */
  bufferedBytes(socketId: string): number | undefined {
    return this.#guards.get(socketId)?.bufferedBytes;
  }
}
