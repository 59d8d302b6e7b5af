import { identityOf } from "../auth/identity.ts";
import type { TokenStore, TokensChange } from "../auth/token-store.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { BerthServer } from "./berth-server.ts";

/**
 * Ends the connections of a token that is no longer in force: when the
 * tokens change (the tokens file re-read), each connection whose token was
 * revoked is told (`session:revoked`) and closed at once; connections with
 * other tokens are left alone.
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
      socket.emit("session:revoked", { reason: "token_revoked", ts: Date.now() });
      socket.disconnect(true);
    }
  };

  close(): void {
    this.#auth.off("changed", this.#onTokensChanged);
  }
}
