import type { Namespace } from "socket.io";
import { Adapter } from "socket.io-adapter";
import { AGENTS_NAMESPACE } from "../agent-link/agent-link-contract.ts";
import type { AdapterFactory } from "./local-telemetry.ts";

/** What Socket.IO's `adapter` option takes: an adapter class, or a factory it calls with `new`. */
type AdapterConstructor = AdapterFactory | (new (nsp: Namespace) => Adapter);

/**
 * The adapter of every namespace: the clients' as given (connection-state
 * recovery, and with BERTH_REDIS_URL the cluster's fan-out), and Socket.IO's
 * plain in-memory adapter for the node agents' (`/agents`).
 *
 * With connection-state recovery on, Socket.IO sends even a single socket's
 * `emit` through its namespace's adapter. On the agents' namespace that meant
 * every call to an agent was first published to Redis (a round trip before
 * the agent got it, on the hop the cluster keeps free of Redis, with the
 * call's arguments — a create's environment among them — written into the
 * recovery stream every server reads), and without Redis every `cancel` was
 * stored for recovery with an offset added to its arguments. A call is for
 * this server's connection to one agent only: an agent that reconnects
 * starts afresh (its calls failed with the connection, and its snapshot says
 * how its channels stand), so nothing of it is worth storing or sending on.
 */
export function keepAgentLinkApart(clients: AdapterConstructor): AdapterFactory {
  // A function, not an arrow: Socket.IO calls the factory with `new` (and takes the object it returns).
  return function adapterFor(nsp) {
    if (nsp.name === AGENTS_NAMESPACE) return new Adapter(nsp);
    return new (clients as new (nsp: Namespace) => Adapter)(nsp);
  };
}
