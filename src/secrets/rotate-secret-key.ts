import type { DatabaseSync } from "node:sqlite";
import { KeyRing, type SecretKey } from "./key-ring.ts";
import { isSealed, rewriteSecrets, type SpecJson } from "./sealed-spec.ts";
import { SecretCipher } from "./secret-cipher.ts";

export interface RotationReport {
  /** The keys the file held before. */
  from: string[];
  /** The new key, now the only one. */
  to: string;
  containers: number;
  values: number;
}

/**
 * Replaces the key that seals secrets at rest, in three steps that a crash
 * between any two leaves readable: (1) a new key is added to the key file
 * beside the old ones, which stay current; (2) every stored value is opened
 * and sealed again with the new key, in one transaction; (3) the key file is
 * rewritten with the new key alone. After (1) or a failed (2), berth reads the
 * store as before; after (2), with either key file. Running it again finishes
 * what a crash interrupted. berth must not run meanwhile: it would go on
 * sealing with the key it loaded at start.
 *
 * SQLite only: it works on berth's SQLite file itself, not through a Store port.
 */
export function rotateSecretKey(db: DatabaseSync, keyFile: string): RotationReport {
  const before = KeyRing.load(keyFile);
  const { ring, added } = before.addNewKey();
  const cipher = new SecretCipher(ring);
  const rows = db.prepare("SELECT id, spec FROM containers").all() as unknown as Array<{
    id: string;
    spec: string;
  }>;
  const update = db.prepare("UPDATE containers SET spec = ? WHERE id = ?");
  let values = 0;
  let containers = 0;
  // What is replaced is overwritten, not left in free pages, and pushed out of the WAL afterwards:
  // the old key may be the reason for the rotation.
  db.exec("PRAGMA secure_delete = ON");
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const row of rows) {
      const json = JSON.parse(row.spec) as SpecJson;
      const changed = resealSpec(json, row.id, cipher, added);
      if (changed === 0) continue;
      update.run(JSON.stringify(json), row.id);
      values += changed;
      containers++;
    }
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  ring.retireAllBut(added.id);
  return { from: before.ids, to: added.id, containers, values };
}

/** Seals every secret value of one spec again with `key` (opening it with whichever key sealed it); how many. */
export function resealSpec(json: SpecJson, id: string, cipher: SecretCipher, key: SecretKey): number {
  return rewriteSecrets(json, id, (value, context) => {
    const plain = isSealed(value) ? cipher.open(value.$sealed, context) : value;
    return { $sealed: cipher.seal(plain, context, key) };
  });
}
