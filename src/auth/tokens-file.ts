import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { ConfigError } from "../config/config.ts";
import { checkOwnerName, MAX_TOKEN_LENGTH, MIN_TOKEN_LENGTH } from "./owner-name.ts";
import { parseQuotaOverrides, type QuotaOverrides } from "./quota-overrides.ts";

export interface OwnerEntry {
  readonly token: string;
  readonly overrides: QuotaOverrides;
}

/**
 * The tokens file could not be used. The message names the file and, for a
 * line that does not parse, its number — never a token or any text of the
 * line, which may be one. A ConfigError, so that at start-up berth stops with
 * this message.
 */
export class TokensFileError extends ConfigError {
  readonly line: number | undefined;
  readonly reason: string;
  constructor(reason: string, line?: number) {
    super(
      `invalid configuration:\n  BERTH_TOKENS_FILE: ${line === undefined ? "" : `line ${line}: `}${reason}`,
    );
    this.line = line;
    this.reason = reason;
  }
}

/**
 * Parses the tokens file: one `owner:token` per line, optionally followed by
 * whitespace-separated quota overrides (`alice:s3cr3t-token containers=50`);
 * blank lines and lines starting with `#` are skipped. An owner named twice,
 * or a token given to two owners or to an owner and the admin, is refused:
 * either would make who-is-who depend on the order of lines.
 */
export function parseTokensFile(text: string, adminToken?: string): Map<string, OwnerEntry> {
  const owners = new Map<string, OwnerEntry>();
  const tokens = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = (lines[i] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const [pair = "", ...words] = line.split(/\s+/);
    const at = pair.indexOf(":");
    if (at <= 0) throw new TokensFileError("expected owner:token", lineNo);
    const owner = pair.slice(0, at);
    const token = pair.slice(at + 1);
    const badName = checkOwnerName(owner);
    if (badName) throw new TokensFileError(badName, lineNo);
    if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH) {
      throw new TokensFileError(`a token has ${MIN_TOKEN_LENGTH}–${MAX_TOKEN_LENGTH} characters`, lineNo);
    }
    if (owners.has(owner)) throw new TokensFileError(`owner '${owner}' is named twice`, lineNo);
    if (tokens.has(token)) throw new TokensFileError("this token is already given to another owner", lineNo);
    if (token === adminToken)
      throw new TokensFileError("this token is the admin's (BERTH_ADMIN_TOKEN)", lineNo);
    let overrides: QuotaOverrides;
    try {
      overrides = parseQuotaOverrides(words);
    } catch (err) {
      throw new TokensFileError((err as Error).message, lineNo);
    }
    owners.set(owner, { token, overrides });
    tokens.add(token);
  }
  return owners;
}

/**
 * Reads the tokens file, refusing it when its group or others may read or
 * write it (`mode & 0o077`): a file of every tenant's token that anyone on
 * the host can read is a leak already. The mode is checked on the open file,
 * so a file swapped between the check and the read is not read.
 */
export function readTokensFile(path: string, adminToken?: string): Map<string, OwnerEntry> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw new TokensFileError(`cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new TokensFileError(`${path} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new TokensFileError(
        `${path} has mode 0${(stat.mode & 0o777).toString(8)}; group and others must have no access (chmod 600)`,
      );
    }
    return parseTokensFile(readFileSync(fd, "utf8"), adminToken);
  } finally {
    closeSync(fd);
  }
}
