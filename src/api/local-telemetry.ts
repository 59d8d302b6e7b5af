import type { Namespace } from "socket.io";
import type { Adapter, BroadcastOptions } from "socket.io-adapter";
import { TRANSIENT_EVENTS } from "./telemetry-streams.ts";

/** What Socket.IO's `adapter` option takes: one adapter per namespace (a cluster's, with BERTH_REDIS_URL). */
export type AdapterFactory = (nsp: Namespace) => Adapter;

/** Socket.IO's packet as the adapter sees it: `data[0]` is the event name. */
interface AdapterPacket {
  type: number;
  data?: unknown[];
}

/**
 * A cluster adapter whose broadcasts of TRANSIENT_EVENTS (logs, stats,
 * workload messages, progress steps, drop notices) stay on this server: they
 * come to the server the client is on (from the node agents) at high rate,
 * and going through Redis would write each into its recovery stream, where
 * it is worth nothing (a reconnecting client re-subscribes) and would push
 * out the status changes and activity entries that are worth recovering.
 * The rest goes through the cluster adapter as it is.
 *
 * The handlers emit these to their own connections already (ServerPushes
 * with `io.local`); this keeps a future `io.to(room).emit("container:log")`
 * off Redis too.
 */
export function keepTelemetryLocal(factory: AdapterFactory): AdapterFactory {
  // A function, not an arrow: Socket.IO calls the factory with `new` (and takes the object it returns).
  return function telemetryStaysLocal(nsp) {
    const adapter = factory(nsp);
    const broadcast = adapter.broadcast.bind(adapter);
    adapter.broadcast = (packet: AdapterPacket, opts: BroadcastOptions) => {
      const event = packet.data?.[0];
      if (typeof event === "string" && TRANSIENT_EVENTS.has(event))
        return broadcast(packet, { ...opts, flags: { ...opts.flags, local: true } });
      return broadcast(packet, opts);
    };
    return adapter;
  };
}
