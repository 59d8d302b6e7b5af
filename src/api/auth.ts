import { createHash, timingSafeEqual } from "node:crypto";
import type { SocketData } from "./contract.ts";

/**
 * Maps a handshake token to who is asking. Tokens are compared as SHA-256
 * digests in constant time, so neither their content nor their length leaks
 * through timing.
 */
export class TokenAuthenticator {
  readonly #entries: Array<{ digest: Buffer; identity: SocketData }> = [];

  constructor(tokens: ReadonlyMap<string, string>, adminToken: string | undefined) {
    for (const [owner, token] of tokens)
      this.#entries.push({ digest: digest(token), identity: { owner, admin: false } });
    if (adminToken)
      this.#entries.push({ digest: digest(adminToken), identity: { owner: "admin", admin: true } });
  }

  authenticate(token: unknown): SocketData | undefined {
    if (typeof token !== "string" || token.length === 0 || token.length > 1024) return undefined;
    const d = digest(token);
    let match: SocketData | undefined;
    for (const entry of this.#entries) if (timingSafeEqual(entry.digest, d)) match = entry.identity;
    return match;
  }
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
