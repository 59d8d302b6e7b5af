import { resolve } from "node:path";
import { z } from "zod";
import { checkOwnerName, MAX_TOKEN_LENGTH, MIN_TOKEN_LENGTH } from "../../auth/owner-name.ts";
import { ConfigError } from "../config-error.ts";
import { type EnvOf, envInt, envList } from "../env-values.ts";

/** Who may connect, with which token, and how many connections and handshakes they may make. */
export const AccessEnv = {
  BERTH_TOKENS: envList,
  BERTH_ADMIN_TOKEN: z.string().optional(),
  BERTH_TOKENS_FILE: z.string().min(1).optional(),
  // A client app needs a few connections; 32 leaves room for many tabs or workers while bounding what one owner holds.
  BERTH_MAX_CONNECTIONS_PER_OWNER: envInt(32, 0),
  // A client reconnecting with back-off makes a handful per minute; 120 a minute caps a flood at 2 a second.
  BERTH_HANDSHAKES_PER_MINUTE: envInt(120, 0),
};

export interface AccessConfig {
  /** owner → token */
  readonly tokens: ReadonlyMap<string, string>;
  readonly adminToken: string | undefined;
  /** BERTH_TOKENS_FILE, absolute: owner tokens re-read on SIGHUP and when it changes. */
  readonly tokensFile: string | undefined;
  /** Connections per owner at once (0: no cap). */
  readonly maxConnectionsPerOwner: number;
  /** Handshakes per remote address per minute, before authentication (0: no limit). */
  readonly handshakesPerMinute: number;
}

export function accessConfig(e: EnvOf<typeof AccessEnv>): AccessConfig {
  const tokens = ownerTokens(e.BERTH_TOKENS, e.BERTH_ADMIN_TOKEN);
  if (tokens.size > 0 && e.BERTH_TOKENS_FILE !== undefined) {
    // One place for owner tokens: a token removed from the file must not live on in the environment.
    throw ConfigError.invalid(
      "BERTH_TOKENS and BERTH_TOKENS_FILE cannot be used together; put every owner in the file",
    );
  }
  return {
    tokens,
    adminToken: e.BERTH_ADMIN_TOKEN,
    tokensFile: e.BERTH_TOKENS_FILE === undefined ? undefined : resolve(e.BERTH_TOKENS_FILE),
    maxConnectionsPerOwner: e.BERTH_MAX_CONNECTIONS_PER_OWNER,
    handshakesPerMinute: e.BERTH_HANDSHAKES_PER_MINUTE,
  };
}

/** BERTH_TOKENS' `owner:token` pairs: each owner and each token once, none of them the admin's. */
function ownerTokens(entries: readonly string[], adminToken: string | undefined): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const entry of entries) {
    const at = entry.indexOf(":");
    const owner = entry.slice(0, at);
    const token = entry.slice(at + 1);
    if (at <= 0 || token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH) {
      throw ConfigError.invalid(
        `BERTH_TOKENS: expected owner:token pairs, tokens of ${MIN_TOKEN_LENGTH}–${MAX_TOKEN_LENGTH} characters`,
      );
    }
    const badName = checkOwnerName(owner);
    if (badName) throw ConfigError.invalid(`BERTH_TOKENS: ${badName}`);
    if (tokens.has(owner)) throw ConfigError.invalid(`BERTH_TOKENS: owner '${owner}' is named twice`);
    if ([...tokens.values()].includes(token) || token === adminToken) {
      throw ConfigError.invalid(
        `BERTH_TOKENS: owner '${owner}' has a token already given to another owner or the admin`,
      );
    }
    tokens.set(owner, token);
  }
  return tokens;
}
