import type { SystemLogger } from "../../logging/system-logger.ts";
import type { SpecJson } from "../../secrets/sealed-spec.ts";
import { keyForSpecs, type SecretsAtRest, sealPlainValues } from "../../secrets/secrets-at-rest.ts";
import { PgDatabase } from "./pg-database.ts";
import { migratePostgres } from "./pg-migrations.ts";

/**
 * openSecretsAtRest for a store in PostgreSQL, run by the composition before
 * the store opens (the store needs the cipher this returns): the same rules
 * (keyForSpecs) — the key file made at the first start, refused when it is
 * missing or does not open what the database holds — on the database's own
 * rows, and plain values (a database filled by other means) sealed in one
 * transaction. Brings the schema up to date first, so a new database has
 * its tables to read.
 *
 * @example
 *   const atRest = await openPostgresSecretsAtRest(config.database.reveal(), config.secretKeyFile, log);
 *   const store = await openPostgresStore(config.database.reveal(), atRest.cipher, log);
 */
export async function openPostgresSecretsAtRest(
  url: string,
  keyFile: string,
  log?: SystemLogger,
): Promise<SecretsAtRest> {
  const db = new PgDatabase(url, log);
  try {
    await migratePostgres(db);
    const { rows } = await db.run<{ id: string; spec: SpecJson }>(
      "s-specs",
      "SELECT id, spec FROM containers",
    );
    const { cipher, createdKey, plain } = keyForSpecs(
      rows.map((r) => ({ id: r.id, json: r.spec })),
      keyFile,
    );
    let sealedNow = 0;
    if (plain.length > 0) {
      await db.transaction(async (tx) => {
        for (const spec of plain) {
          sealedNow += sealPlainValues(spec, cipher);
          await db.run(
            "s-seal",
            "UPDATE containers SET spec = $2 WHERE id = $1",
            [spec.id, JSON.stringify(spec.json)],
            tx,
          );
        }
      });
    }
    return { cipher, createdKey, sealedNow };
  } finally {
    await db.close();
  }
}
