import { TokenStore } from "../auth/token-store.ts";
import type { Config } from "../config/config.ts";
import { adminTokenPath, loadOrCreateAdminToken } from "../secrets/admin-token-file.ts";
import type { BerthOptions } from "./berth-options.ts";
import type { BerthBase } from "./open-base.ts";

/**
 * The tokens in force: BERTH_TOKENS, or the tokens file (read now; a file
 * that is refused throws TokensFileError, and berth stops with its message),
 * and the admin's token — made and kept beside the key file when neither
 * BERTH_TOKENS nor BERTH_ADMIN_TOKEN is set, so that someone can still manage
 * the containers of an owner whose token was removed from the file.
 */
export function openTokens(config: Config, options: BerthOptions, { secrets, log }: BerthBase): TokenStore {
  let adminToken = config.adminToken;
  if (config.tokens.size === 0 && adminToken === undefined) {
    const file = adminTokenPath(config.secretKeyFile);
    const generated = loadOrCreateAdminToken(file, config.dataDir);
    adminToken = generated.token;
    secrets.setTokens(config.tokens, adminToken);
    if (generated.created) options.onAdminTokenCreated?.(generated.token, file);
    if (generated.movedFrom)
      log.info({ from: generated.movedFrom, to: file }, "moved the admin token out of the data directory");
  }
  const tokens = TokenStore.open({
    tokens: config.tokens,
    adminToken,
    file: config.tokensFile,
    // The new tokens are in force by then, and the other listeners (closing revoked connections) still run.
    onListenerError: (err) =>
      log.error({ err }, "a listener of the tokens change failed; the new tokens are in force"),
  });
  secrets.setTokens(tokens.tokens, tokens.adminToken);
  // Each owner's redactor follows the tokens in force: a new token is hidden from the moment it works.
  tokens.on("changed", ({ tokens: owners, adminToken: admin }) => secrets.setTokens(owners, admin));
  return tokens;
}
