import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { KeyRing, SecretKey } from "./key-ring.ts";
import { SecretKeyError } from "./secret-key-error.ts";

const FORMAT = "v1";
/** GCM's recommended nonce size; random per value (2^32 values per key stay far below the collision bound). */
const IV_BYTES = 12;

/**
 * Seals and opens secret values with AES-256-GCM. A sealed value is
 * `v1:<keyId>:<iv>:<ciphertext>:<tag>` (base64url), so that a rotation can
 * tell which key sealed it. `context` (the container and the variable) is
 * bound in as additional data: a sealed value copied into another container's
 * row, or under another name, does not open.
 *
 * @example
 *   const sealed = cipher.seal("s3cr3t", "C0123456789A/secretEnv/API_KEY");
 *   cipher.open(sealed, "C0123456789A/secretEnv/API_KEY"); // "s3cr3t"
 */
export class SecretCipher {
  readonly #ring: KeyRing;

  constructor(ring: KeyRing) {
    this.#ring = ring;
  }

  get currentKeyId(): string {
    return this.#ring.current.id;
  }

  seal(plain: string, context: string, key: SecretKey = this.#ring.current): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key.key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const ct = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      FORMAT,
      key.id,
      iv.toString("base64url"),
      ct.toString("base64url"),
      tag.toString("base64url"),
    ].join(":");
  }

  /** The plain value; SecretKeyError when the key is not in the ring or the value was tampered with. */
  open(sealed: string, context: string): string {
    const [format, keyId, iv, ct, tag] = sealed.split(":");
    if (format !== FORMAT || keyId === undefined || iv === undefined || ct === undefined || tag === undefined)
      throw new SecretKeyError("a stored secret is not in a format berth knows.");
    const key = this.#ring.get(keyId);
    if (!key) {
      throw new SecretKeyError(
        `stored secrets were sealed with key ${keyId}, which ${this.#ring.path} does not hold (it holds ${this.#ring.ids.join(", ")}). Restore the key file that was in use.`,
      );
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key.key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString(
        "utf8",
      );
    } catch (err) {
      throw new SecretKeyError(
        `a stored secret does not open with key ${keyId} from ${this.#ring.path}: the key or the store was altered.`,
        { cause: err },
      );
    }
  }

  /** The id of the key that sealed a value. */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split(":", 3)[1];
  }
}
