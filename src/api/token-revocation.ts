import { identityOf } from "../auth/identity.ts";
import type { TokenStore, TokensChange } from "../auth/token-store.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { BerthServer } from "./berth-server.ts";

/**
 * Ends the connections of a token that is no longer in force: when the
 * tokens change (the tokens file re-read), each connection whose token was
 * revoked is told (`session:revoked`) and closed at once; connections with
 * other tokens are left alone.
 *
 * Each API server closes its own connections when its own tokens file
 * changes: with several servers, the file must change on every one of them
 * together (docs/cluster.md).
 */
export class TokenRevocation {
  readonly #io: BerthServer;
  readonly #auth: TokenStore;
  readonly #log: SystemLogger;

  constructor(io: BerthServer, auth: TokenStore, log: SystemLogger) {
    this.#io = io;
    this.#auth = auth;
    this.#log = log;
    auth.on("changed", this.#onTokensChanged);
  }

  readonly #onTokensChanged = (change: TokensChange) => {
    for (const socket of this.#io.of("/").sockets.values()) {
      if (this.#auth.isCurrent({ identity: identityOf(socket.data), digest: socket.data.tokenDigest }))
        continue;
      this.#log.info(
        { connection: socket.id, owner: socket.data.owner, revoked: change.revoked.length },
        "closing connection: its token was revoked",
      );
      // Written to this connection at once (`local`), not through the adapter: with connection-state
      // recovery every `socket.emit` is a broadcast to the socket's own room, and the cluster adapter's
      // (BERTH_REDIS_URL) writes it only once Redis has stored it — after the disconnect below has removed
      // the socket. A farewell is worth nothing to recover anyway.
      this.#io.local.to(socket.id).emit("session:revoked", { reason: "token_revoked", ts: Date.now() });
      socket.disconnect(true);
    }
  };

  close(): void {
    this.#auth.off("changed", this.#onTokensChanged);
  }
}
