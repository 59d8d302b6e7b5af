import { readFileSync, statSync } from "node:fs";
import { ConfigError } from "./config-error.ts";

/**
 * The node's credential from BERTH_AGENT_CREDENTIAL_FILE (e.g.
 * /etc/berth/agent-credential, root's, mode 0600), trimmed. A file that its
 * group or others may open is refused, as ssh refuses a private key anyone
 * may read: whoever reads it can take this node's calls, the create bodies
 * with their secret environment among them. The messages never quote the file.
 */
export function readCredentialFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw ConfigError.invalid(
      `BERTH_AGENT_CREDENTIAL_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  if ((mode & 0o077) !== 0)
    throw ConfigError.invalid(
      `BERTH_AGENT_CREDENTIAL_FILE: ${path} has mode ${(mode & 0o777).toString(8).padStart(4, "0")}; its group and others must have no access to it (chmod 600 ${path})`,
    );
  try {
    return readFileSync(path, "utf8").trim();
  } catch (err) {
    throw ConfigError.invalid(
      `BERTH_AGENT_CREDENTIAL_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

/**
 * The CA certificates in BERTH_AGENT_CA_FILE (PEM): the only ones the agent
 * trusts for the API servers' certificates when it is set.
 */
export function readCaFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (err) {
    throw ConfigError.invalid(
      `BERTH_AGENT_CA_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw ConfigError.invalid(`BERTH_AGENT_CA_FILE: ${path} holds no PEM certificate`);
  return pem;
}
