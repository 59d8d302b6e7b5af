import { timingSafeEqual } from "node:crypto";
import { ConnectionCounter } from "../auth/connection-counter.ts";
import { actorOf } from "../auth/identity.ts";
import type { TokenStore } from "../auth/token-store.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { BerthServer } from "./berth-server.ts";
import type { ClusterSessions } from "./cluster-sessions.ts";
import { ConnectRefusals } from "./connect-refusals.ts";
import type { SocketData } from "./contract.ts";
import type { BerthSocket } from "./register-handler.ts";
import { guardSessionRecovery } from "./session-recovery-guard.ts";

type Middleware = (socket: BerthSocket, next: (err?: Error) => void) => void;

export interface ConnectionAuthOptions {
  auth: TokenStore;
  log: SystemLogger;
  /** Connections per owner at once (0: no cap); the admin is not capped. */
  maxConnectionsPerOwner: number;
  /** With fan-out: the sessions kept in Redis, where a refused recovery gives back the one its look-up consumed. */
  sessions?: ClusterSessions | undefined;
}

/**
 * Who may connect: each namespace CONNECT must carry a token in force
 * (`auth.token`), which makes the connection its owner's or the admin's; an
 * owner at its connection cap is refused TOO_MANY_CONNECTIONS; a connection
 * gets one try at the token (ConnectRefusals); a recovered session is
 * restored only for the token it was made with, while that token is in force
 * for the same identity (a token moved to another owner in the tokens file
 * does not carry the session along).
 *
 * @example
 *   const io = createBerthServer(httpServer, { maxPayloadBytes, handshakes });
 *   const auth = new ConnectionAuth(io, { auth: tokens, log, maxConnectionsPerOwner: 32 });
 *   io.on("connection", (socket) => socket.data.owner); // authenticated
 *   auth.close();
 */
export class ConnectionAuth {
  readonly #auth: TokenStore;
  readonly #maxConnectionsPerOwner: number;
  readonly #connections: ConnectionCounter;
  readonly #refusals: ConnectRefusals;

  constructor(io: BerthServer, options: ConnectionAuthOptions) {
    this.#auth = options.auth;
    this.#maxConnectionsPerOwner = options.maxConnectionsPerOwner;
    this.#connections = new ConnectionCounter(options.maxConnectionsPerOwner);
    guardSessionRecovery(io.of("/"), this.#mayRestore, options.sessions);
    // One try at the token per connection: a refused CONNECT closes it (see ConnectRefusals).
    this.#refusals = new ConnectRefusals(options.log);
    io.use(this.#refusals.oneAttempt);
    io.use(this.#authenticate);
  }

  readonly #mayRestore = (token: unknown, session: SocketData): boolean => {
    const credential = this.#auth.authenticate(token);
    if (!credential || session.tokenDigest?.length !== credential.digest.length) return false;
    const actor = actorOf(credential.identity);
    return (
      timingSafeEqual(credential.digest, session.tokenDigest) &&
      actor.admin === session.admin &&
      actor.owner === session.owner
    );
  };

  readonly #authenticate: Middleware = (socket, next) => {
    const credential = this.#auth.authenticate(
      (socket.handshake.auth as { token?: unknown } | undefined)?.token,
    );
    if (!credential)
      return next(this.#refusals.refuse(socket, "UNAUTHORIZED", "refused connection: bad or missing token"));
    const actor = actorOf(credential.identity);
    if (!actor.admin) {
      const release = this.#connections.take(actor.owner);
      if (!release) {
        const refusal = "refused connection: the owner is at its connection cap";
        const details = { limit: this.#maxConnectionsPerOwner };
        return next(
          this.#refusals.refuse(socket, "TOO_MANY_CONNECTIONS", refusal, { owner: actor.owner, details }),
        );
      }
      // Given back once, whether the socket disconnects later or its connection closes before it connects.
      socket.once("disconnect", release);
      socket.conn.once("close", release);
    }
    socket.data = { ...actor, tokenDigest: credential.digest };
    next();
  };

  /** Writes the counts of refusals not logged yet. */
  close(): void {
    this.#refusals.close();
  }
}
