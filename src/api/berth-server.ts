import type { Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import type { ClientToServerEvents, ServerToClientEvents } from "#protocol";
import type { HandshakeLimiter } from "../auth/handshake-limiter.ts";
import { keepAgentLinkApart } from "./agent-link-adapter.ts";
import type { InterServerEvents, SocketData } from "./contract.ts";
import { type AdapterFactory, keepTelemetryLocal } from "./local-telemetry.ts";
import { RecoveryAdapter } from "./recovery-adapter.ts";

export type BerthServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/**
 * How long a connection may stay without a successful namespace connect.
 * Socket.IO's default (45 s) lets an unauthenticated peer hold a connection
 * for long; a client that can reach berth sends its CONNECT within a round
 * trip of opening, so 10 s is generous even on a slow mobile link.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * berth's Socket.IO server, on the HTTP server fastify owns: one transport
 * limit, handshakes rate-limited per remote address, connection state
 * recovery for two minutes (RecoveryAdapter keeps what it may, or with
 * `fanOut` the cluster adapter, with telemetry kept off it; the node agents'
 * namespace on neither), no client
 * bundle served and no cross-origin requests.
 */
export function createBerthServer(
  httpServer: HttpServer,
  options: {
    maxPayloadBytes: number;
    handshakes: HandshakeLimiter;
    /** The adapter that fans pushes out to the other API servers (BERTH_REDIS_URL); this server's memory without it. */
    fanOut?: AdapterFactory | undefined;
  },
): BerthServer {
  return new Server(httpServer, {
    // One transport limit for authenticated connections; a message above it closes that connection
    // (Socket.IO's own behaviour). Before authentication the PreAuthGuard holds a connection to far less.
    maxHttpBufferSize: options.maxPayloadBytes,
    // Middlewares run for recovered sessions too: the connection cap counts them, and the token is checked
    // again (ConnectionAuth's session recovery guard has already made sure it is the session's own token).
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
    connectTimeout: CONNECT_TIMEOUT_MS,
    allowRequest: (req, callback) => {
      if (options.handshakes.allow(req.socket.remoteAddress)) return callback(null, true);
      callback("too many handshakes from this address", false);
    },
    // The node agents' namespace (cluster mode) on neither: agent-link-adapter.ts says why.
    adapter: keepAgentLinkApart(options.fanOut ? keepTelemetryLocal(options.fanOut) : RecoveryAdapter),
    serveClient: false,
    cors: { origin: false },
  });
}

/**
 * Disconnects every client of this server and closes the engine, leaving the
 * HTTP server (fastify's) open. Alone, berth tells each client it was
 * disconnected (its session dies with the process). With `handOver` (an API
 * server among others, sessions in Redis) it closes as Socket.IO's own
 * `io.close()` does: each session is kept ("server shutting down") and the
 * transport dropped, so that the client reconnects by itself — through the
 * load balancer, to another server — and recovers its session there.
 */
export function closeBerthServer(
  io: BerthServer,
  options: { handOver: boolean } = { handOver: false },
): void {
  if (options.handOver) {
    // `_onclose` is what io.close() calls (private in socket.io's docs, declared on Socket's type).
    for (const socket of io.of("/").sockets.values()) socket._onclose("server shutting down");
  } else {
    // Local: with a cluster adapter a plain disconnectSockets would also disconnect every other server's clients.
    io.local.disconnectSockets(true);
  }
  // io.close() would also close the shared HTTP server; fastify owns that, so only the engine is closed here.
  io.engine.close();
}

/** Packets stored for connection-state recovery now, in this server's memory (0 with fan-out: they are in Redis). */
export function storedRecoveryPackets(io: BerthServer): number {
  const adapter = io.of("/").adapter;
  return adapter instanceof RecoveryAdapter ? adapter.storedPackets : 0;
}
