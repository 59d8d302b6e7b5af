import type { DatabaseSync } from "node:sqlite";
import { KeyRing } from "./key-ring.ts";
import { isSealed, rewriteSecrets, type SpecJson } from "./sealed-spec.ts";
import { SecretCipher } from "./secret-cipher.ts";
import { SecretKeyError } from "./secret-key-error.ts";

export interface SecretsAtRest {
  cipher: SecretCipher;
  /** Whether the key file was made now (first start). */
  createdKey: boolean;
  /** Values an earlier berth stored in plain text, sealed now. */
  sealedNow: number;
}

interface Row {
  id: string;
  spec: string;
}

/**
 * Opens the store's secrets at start-up, before anything reads a container:
 * makes the key file at the first start (only when the store holds no sealed
 * value, which a new key could never open), checks that every sealed value
 * opens with the keys in the file, and seals — in one transaction — the
 * values an earlier berth kept in plain text. Refuses (SecretKeyError) rather
 * than start with secrets it cannot read.
 *
 * SQLite only: it reads and rewrites berth's SQLite file itself (the
 * composition opens it for this step, before the store), not a Store port.
 */
export function openSecretsAtRest(db: DatabaseSync, keyFile: string): SecretsAtRest {
  const rows = db.prepare("SELECT id, spec FROM containers").all() as unknown as Row[];
  const specs = rows.map((r) => ({ id: r.id, json: JSON.parse(r.spec) as SpecJson }));
  const { cipher, createdKey, plain } = keyForSpecs(specs, keyFile);
  let sealedNow = 0;
  const update = db.prepare("UPDATE containers SET spec = ? WHERE id = ?");
  if (plain.length > 0) {
    // Overwrite what is replaced instead of leaving it in free space, and push the
    // change out of the WAL into the main file: no plain-text copy outlives this step.
    db.exec("PRAGMA secure_delete = ON");
    db.exec("BEGIN IMMEDIATE");
    try {
      for (const spec of plain) {
        sealedNow += sealPlainValues(spec, cipher);
        update.run(JSON.stringify(spec.json), spec.id);
      }
      db.exec("COMMIT");
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  return { cipher, createdKey, sealedNow };
}

/** A container's spec as a store holds it, secret values sealed (or, from an earlier berth, plain). */
export interface StoredSpecJson {
  id: string;
  json: SpecJson;
}

/**
 * The rules of openSecretsAtRest, for every store: the key file made at the
 * first start (only when no stored value is sealed, which a new key could
 * never open), every sealed value checked to open with the keys in the file
 * (SecretKeyError otherwise), and the specs that still hold a plain value
 * named, for the store to seal in one transaction of its own.
 */
export function keyForSpecs(
  specs: readonly StoredSpecJson[],
  keyFile: string,
): { cipher: SecretCipher; createdKey: boolean; plain: StoredSpecJson[] } {
  const sealedWith = new Set<string>();
  for (const { id, json } of specs) {
    rewriteSecrets(json, id, (value) => {
      if (isSealed(value)) sealedWith.add(SecretCipher.keyIdOf(value.$sealed) ?? "?");
      return value;
    });
  }

  let createdKey = false;
  if (!KeyRing.exists(keyFile)) {
    if (sealedWith.size > 0) {
      throw new SecretKeyError(
        `${keyFile} is missing, and the store holds secrets sealed with key ${[...sealedWith].join(", ")}. Restore that key file (or set BERTH_SECRET_KEY_FILE to it); a new key could not open them.`,
      );
    }
    KeyRing.create(keyFile);
    createdKey = true;
  }
  const cipher = new SecretCipher(KeyRing.load(keyFile));

  const plain: StoredSpecJson[] = [];
  for (const spec of specs) {
    let hasPlain = false;
    rewriteSecrets(spec.json, spec.id, (value, context) => {
      if (isSealed(value))
        cipher.open(value.$sealed, context); // throws unless it opens
      else hasPlain = true;
      return value;
    });
    if (hasPlain) plain.push(spec);
  }
  return { cipher, createdKey, plain };
}

/** Seals the plain values of one spec in place; how many it sealed. */
export function sealPlainValues(spec: StoredSpecJson, cipher: SecretCipher): number {
  return rewriteSecrets(spec.json, spec.id, (value, context) =>
    isSealed(value) ? value : { $sealed: cipher.seal(value, context) },
  );
}
