import { KeyRing } from "../../secrets/key-ring.ts";
import { type RotationReport, resealSpec } from "../../secrets/rotate-secret-key.ts";
import type { SpecJson } from "../../secrets/sealed-spec.ts";
import { SecretCipher } from "../../secrets/secret-cipher.ts";
import { PgDatabase } from "./pg-database.ts";

/**
 * rotateSecretKey for a store in PostgreSQL, in the same three steps that a
 * crash between any two leaves readable: a new key added to the key file
 * beside the old ones; every stored value sealed again with it, in one
 * transaction (rows locked, so nothing writes a spec meanwhile); the key file
 * rewritten with the new key alone. Then `VACUUM FULL` rewrites the table, so
 * the old row versions — values sealed with the retired key, which may be
 * why it is rotated — do not stay in the table's files (the server's WAL and
 * backups still hold them until they age out). berth must not run meanwhile.
 */
export async function rotatePostgresSecretKey(url: string, keyFile: string): Promise<RotationReport> {
  const before = KeyRing.load(keyFile);
  const { ring, added } = before.addNewKey();
  const cipher = new SecretCipher(ring);
  const db = new PgDatabase(url);
  try {
    let values = 0;
    let containers = 0;
    await db.transaction(async (tx) => {
      const { rows } = await db.run<{ id: string; spec: SpecJson }>(
        "k-specs",
        "SELECT id, spec FROM containers FOR UPDATE",
        [],
        tx,
      );
      for (const row of rows) {
        const changed = resealSpec(row.spec, row.id, cipher, added);
        if (changed === 0) continue;
        await db.run(
          "k-reseal",
          "UPDATE containers SET spec = $2 WHERE id = $1",
          [row.id, JSON.stringify(row.spec)],
          tx,
        );
        values += changed;
        containers++;
      }
    });
    await db.run("k-vacuum", "VACUUM FULL containers");
    ring.retireAllBut(added.id);
    return { from: before.ids, to: added.id, containers, values };
  } finally {
    await db.close();
  }
}
