import { createHash, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import { type Identity, sameIdentity } from "./identity.ts";
import { MAX_TOKEN_LENGTH } from "./owner-name.ts";
import type { QuotaOverrides } from "./quota-overrides.ts";
import { type OwnerEntry, readTokensFile } from "./tokens-file.ts";

/** What a valid token proves: who it belongs to, and the token's digest (to tell it from a later token of the same owner). */
export interface Credential {
  readonly identity: Identity;
  readonly digest: Buffer;
}

/** Carried by `changed`: the owner → token map now in force, and the admin's token. */
export interface TokensChange {
  readonly tokens: ReadonlyMap<string, string>;
  readonly adminToken: string | undefined;
  /** Owners whose token was removed or replaced: their connections made with the old token are to be closed. */
  readonly revoked: readonly string[];
  readonly added: readonly string[];
}

export interface TokenStoreOptions {
  /** Owner tokens fixed at start (BERTH_TOKENS). */
  tokens?: ReadonlyMap<string, string>;
  adminToken?: string | undefined;
  /** BERTH_TOKENS_FILE: owner tokens (and quota overrides) that `reload()` reads again. */
  file?: string | undefined;
  /**
   * Told of each `changed` listener that throws (the others run all the same). Without it, `reload()` throws
   * an AggregateError of them once every listener has run — the new tokens are in force either way.
   */
  onListenerError?: (err: unknown) => void;
}

interface Entry {
  readonly digest: Buffer;
  readonly identity: Identity;
}

/**
 * The tokens in force (TokenStore): maps a handshake token to its identity,
 * comparing SHA-256 digests in constant time, so neither a token's content
 * nor its length leaks through timing. With a tokens file, `reload()` reads
 * it again and swaps the whole set at once — or, when the file is refused,
 * keeps the set in force and throws why.
 *
 * @example
 * const store = TokenStore.open({ file: "/etc/berth/tokens", adminToken });
 * store.on("changed", ({ revoked }) => closeConnectionsOf(revoked));
 * store.authenticate(handshake.auth.token); // { identity, digest } | undefined
 */
export class TokenStore extends EventEmitter<{ changed: [TokensChange] }> {
  readonly #file: string | undefined;
  readonly #adminToken: string | undefined;
  readonly #onListenerError: ((err: unknown) => void) | undefined;
  #owners: ReadonlyMap<string, OwnerEntry>;
  #entries: readonly Entry[];

  /**
   * Reads the tokens file, when there is one, and puts its tokens in force. Throws TokensFileError when
   * the file cannot be used: at start-up berth stops.
   */
  static open(options: TokenStoreOptions): TokenStore {
    return new TokenStore(options, readOwners(options.file, options.tokens, options.adminToken));
  }

  /** `owners`: what `open()` read (the constructor reads nothing); without it, `options.tokens`. */
  constructor(options: TokenStoreOptions, owners?: ReadonlyMap<string, OwnerEntry>) {
    super();
    if (options.file !== undefined && owners === undefined)
      throw new TypeError("TokenStore: a tokens file is read by TokenStore.open()");
    this.#file = options.file;
    this.#adminToken = options.adminToken;
    this.#onListenerError = options.onListenerError;
    this.#owners = owners ?? readOwners(undefined, options.tokens, undefined);
    this.#entries = this.#build();
  }

  authenticate(token: unknown): Credential | undefined {
    if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
    const d = digest(token);
    let match: Entry | undefined;
    // Every entry is compared, so the time taken does not say which one matched.
    for (const entry of this.#entries) if (timingSafeEqual(entry.digest, d)) match = entry;
    return match && { identity: match.identity, digest: match.digest };
  }

  /** Whether a credential issued earlier still stands: the same token is still in force for the same identity. */
  isCurrent(credential: Credential): boolean {
    let current = false;
    for (const entry of this.#entries) {
      if (
        timingSafeEqual(entry.digest, credential.digest) &&
        sameIdentity(entry.identity, credential.identity)
      )
        current = true;
    }
    return current;
  }

  /** The owner → token map in force (for the redactor). */
  get tokens(): ReadonlyMap<string, string> {
    return new Map([...this.#owners].map(([owner, e]) => [owner, e.token]));
  }

  get adminToken(): string | undefined {
    return this.#adminToken;
  }

  /** The quota overrides the tokens file gives this owner, if any. */
  overridesFor(owner: string): QuotaOverrides | undefined {
    const overrides = this.#owners.get(owner)?.overrides;
    return overrides && Object.keys(overrides).length > 0 ? { ...overrides } : undefined;
  }

  /**
   * Reads the tokens file again and puts its tokens in force at once. Throws
   * TokensFileError (and changes nothing) when the file is refused. Emits
   * `changed` when any token was added, removed or replaced — to every
   * listener, whichever of them throws (see `onListenerError`).
   */
  reload(): TokensChange | undefined {
    if (this.#file === undefined) return undefined;
    const next = readOwners(this.#file, undefined, this.#adminToken);
    const added: string[] = [];
    const revoked: string[] = [];
    for (const [owner, entry] of next) if (this.#owners.get(owner)?.token !== entry.token) added.push(owner);
    for (const [owner, entry] of this.#owners)
      if (next.get(owner)?.token !== entry.token) revoked.push(owner);
    this.#owners = next;
    this.#entries = this.#build();
    if (added.length === 0 && revoked.length === 0) return undefined;
    const change: TokensChange = { tokens: this.tokens, adminToken: this.#adminToken, revoked, added };
    this.#announce(change);
    return change;
  }

  /**
   * `emit`, but one listener that throws stops no other: the new set is in force already, so a failing
   * listener (the redactor's, say) must not leave the connections of revoked tokens open, nor make the
   * reload look refused.
   */
  #announce(change: TokensChange): void {
    const failures: unknown[] = [];
    for (const listener of this.listeners("changed")) {
      try {
        listener.call(this, change);
      } catch (err) {
        if (this.#onListenerError) this.#onListenerError(err);
        else failures.push(err);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, "a listener of the tokens change failed");
  }

  #build(): Entry[] {
    const entries: Entry[] = [...this.#owners].map(([owner, e]) => ({
      digest: digest(e.token),
      identity: { kind: "owner", owner },
    }));
    if (this.#adminToken) entries.push({ digest: digest(this.#adminToken), identity: { kind: "admin" } });
    return entries;
  }
}

/** The owners in force: the tokens file's when there is one (read now), else the fixed tokens. */
function readOwners(
  file: string | undefined,
  fixed: ReadonlyMap<string, string> | undefined,
  adminToken: string | undefined,
): ReadonlyMap<string, OwnerEntry> {
  if (file !== undefined) return readTokensFile(file, adminToken);
  return new Map([...(fixed ?? [])].map(([owner, token]) => [owner, { token, overrides: {} }]));
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
