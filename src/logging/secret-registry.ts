import { isSecretKey, Redactor } from "./redactor.ts";
import { secretForms } from "./secret-forms.ts";
import { SecretSet } from "./secret-set.ts";

/** Who is looking: an owner, or the admin (whose own containers are under `owner`). */
export interface Viewer {
  owner: string;
  admin: boolean;
}

/** Hands out the redactor for what one owner (or the admin) may see. */
export interface OwnerRedactors {
  /** That owner's secrets and token, plus the fixed rules. */
  forOwner(owner: string): Redactor;
  /** What a connection sees in its answers; see SecretRegistry.forViewer. */
  forViewer(viewer: Viewer): Redactor;
  /** The fixed rules alone, for text addressed to every owner at once. */
  readonly anyone: Redactor;
}

/**
 * Every secret berth knows, kept per owner: each owner's `secretEnv` values
 * and `env` values under secret-looking keys (counted, since several of the
 * owner's containers may share one), each owner's token, and the admin's
 * token.
 *
 * What an owner sees is redacted with that owner's set only. A shared set
 * would be an oracle — bob's workload prints guesses of alice's secret and
 * watches which come back as [REDACTED] in his own logs — and a weapon — bob
 * registers "Created" as a secret and blanks the word out of alice's feed.
 * The operators' system log is redacted with everything (`system`).
 *
 * Each owner's matcher holds that owner's set alone, so an owner's redaction
 * costs the same whether other owners hold ten secrets or ten thousand. No
 * matcher is ever rebuilt: each is an index updated in place (see
 * secret-matcher.ts), so a create or a delete costs time in proportion to the
 * forms it adds or removes — once in the owner's set, once in the system
 * set — whatever anyone else holds, and no later line waits for a build.
 *
 * @example
 *   registry.addEnvironment("alice", { DB_PASSWORD: "s3cr3t-db" }, { STRIPE: "sk_live_x" });
 *   registry.forOwner("alice").redactString("s3cr3t-db");  // "[REDACTED]"
 *   registry.forOwner("bob").redactString("s3cr3t-db");    // "s3cr3t-db": not bob's secret
 *   registry.system.redactString("s3cr3t-db");             // "[REDACTED]"
 */
export class SecretRegistry implements OwnerRedactors {
  readonly #owners = new Map<string, SecretSet>();
  readonly #all = new SecretSet();
  readonly #admin = new SecretSet();
  #tokens: ReadonlyMap<string, string> = new Map();
  #adminToken: string | undefined;
  #serverSecrets: readonly string[] = [];
  /** Each owner's generation: a value of one clock shared by all, so that no owner's ever comes back. */
  readonly #generations = new Map<string, number>();
  #clock = 0;

  /** The operators' log: every owner's secrets and tokens, and the admin's token. */
  readonly system = new Redactor(() => [this.#all]);
  readonly anyone = new Redactor();

  /**
   * Moves whenever what `forOwner(owner)` hides changes (one of the owner's
   * containers made or deleted, the owner's token changed): text redacted
   * for that owner at one generation would be redacted the same way until the
   * next, so it may be kept until then. Per owner, so that no owner's creates
   * and deletes throw away what is kept for another (bob's loop of creates
   * would otherwise make berth redact alice's specs again and again).
   *
   * @example
   *   const before = registry.generationOf("alice");
   *   registry.addEnvironment("bob", undefined, { K: "x" });
   *   registry.generationOf("alice") === before; // true
   */
  generationOf(owner: string): number {
    return this.#generations.get(owner) ?? 0;
  }

  forOwner(owner: string): Redactor {
    return new Redactor(() => {
      const set = this.#owners.get(owner);
      return set ? [set] : [];
    });
  }

  /**
   * What a connection sees in its answers (errors and their details). An owner:
   * its own set. The admin: the secrets of the containers it owns itself and
   * its token — not the system set. Text about another owner's container (its
   * output in NOT_READY or UPDATE_ROLLED_BACK, its activity entries, its logs)
   * is already redacted with that owner's set where it is made, so the admin
   * sees it exactly as the owner does. The system set would let any tenant
   * blank words out of the admin's view (bob's "Created"), and the admin, who
   * may read every container anyway, gains nothing from it.
   */
  forViewer(viewer: Viewer): Redactor {
    if (!viewer.admin) return this.forOwner(viewer.owner);
    return new Redactor(() => {
      const set = this.#owners.get(viewer.owner);
      return set ? [set, this.#admin] : [this.#admin];
    });
  }

  /** Registers the secret parts of one container's environment, for its owner. */
  addEnvironment(
    owner: string,
    env: Record<string, string> | undefined,
    secretEnv: Record<string, string> | undefined,
  ): void {
    this.#touch(owner);
    const set = this.#ownerSet(owner);
    for (const value of secretValues(env, secretEnv)) {
      for (const form of secretForms(value)) {
        set.add(form);
        this.#all.add(form);
      }
    }
  }

  removeEnvironment(
    owner: string,
    env: Record<string, string> | undefined,
    secretEnv: Record<string, string> | undefined,
  ): void {
    this.#touch(owner);
    const set = this.#owners.get(owner);
    for (const value of secretValues(env, secretEnv)) {
      for (const form of secretForms(value)) {
        set?.remove(form);
        this.#all.remove(form);
      }
    }
    this.#forgetIfEmpty(owner);
  }

  /**
   * Replaces every token at once (at start, and whenever the token set is
   * reloaded): each owner's token is hidden from that owner's view and from
   * the system log; the admin's from the admin's view and the system log.
   */
  setTokens(tokens: ReadonlyMap<string, string>, adminToken: string | undefined): void {
    const previous = this.#tokens;
    const previousAdmin = this.#adminToken;
    for (const owner of new Set([...previous.keys(), ...tokens.keys()]))
      if (previous.get(owner) !== tokens.get(owner)) this.#touch(owner);
    this.#tokens = new Map(tokens);
    this.#adminToken = adminToken;
    // A token is hidden in the same forms as a secret value: also what an escape sequence printed
    // just before it leaves of it.
    for (const [owner, token] of this.#tokens) {
      for (const form of secretForms(token)) {
        this.#ownerSet(owner).add(form);
        this.#all.add(form);
      }
    }
    for (const form of adminToken ? secretForms(adminToken) : []) {
      this.#admin.add(form);
      this.#all.add(form);
    }
    // Removed after the new ones are in, so a token kept across the reload is never unhidden.
    for (const [owner, token] of previous) {
      for (const form of secretForms(token)) {
        this.#owners.get(owner)?.remove(form);
        this.#all.remove(form);
      }
      this.#forgetIfEmpty(owner);
    }
    for (const form of previousAdmin ? secretForms(previousAdmin) : []) {
      this.#admin.remove(form);
      this.#all.remove(form);
    }
  }

  /**
   * Secrets of berth's own, known to no owner (the database URL's password):
   * hidden from the system log and from the admin's view, in every form a
   * token is. Replaces the ones given before.
   */
  setServerSecrets(values: readonly string[]): void {
    const previous = this.#serverSecrets;
    this.#serverSecrets = [...values];
    for (const form of this.#serverSecrets.flatMap((v) => secretForms(v))) {
      this.#admin.add(form);
      this.#all.add(form);
    }
    for (const form of previous.flatMap((v) => secretForms(v))) {
      this.#admin.remove(form);
      this.#all.remove(form);
    }
  }

  /**
   * One more secret of berth's own, kept with those of setServerSecrets (a
   * node agent's credential, once it let the agent in). Adding one already
   * known does nothing.
   */
  addServerSecret(value: string): void {
    if (this.#serverSecrets.includes(value)) return;
    this.#serverSecrets = [...this.#serverSecrets, value];
    for (const form of secretForms(value)) {
      this.#admin.add(form);
      this.#all.add(form);
    }
  }

  #touch(owner: string): void {
    this.#generations.set(owner, ++this.#clock);
  }

  #ownerSet(owner: string): SecretSet {
    let set = this.#owners.get(owner);
    if (!set) {
      set = new SecretSet();
      this.#owners.set(owner, set);
    }
    return set;
  }

  #forgetIfEmpty(owner: string): void {
    if (this.#owners.get(owner)?.size === 0) this.#owners.delete(owner);
  }
}

/** The values of an environment that are secret: all of `secretEnv`, and `env` values under secret-looking keys. */
export function secretValues(
  env: Record<string, string> | undefined,
  secretEnv: Record<string, string> | undefined,
): string[] {
  const values = Object.values(secretEnv ?? {});
  for (const [key, value] of Object.entries(env ?? {})) if (isSecretKey(key)) values.push(value);
  return values;
}
