import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type FreshDatabase,
  onConnection,
  type PostgresServer,
  startPostgresServer,
} from "../../../test/helpers/postgres-server.ts";
import type { StoredSpec } from "../../containers/container-spec.ts";
import { SecretKeyError } from "../../secrets/secret-key-error.ts";
import type { ContainerRecord } from "../store-ports.ts";
import { rotatePostgresSecretKey } from "./postgres-rotate-secret-key.ts";
import { openPostgresSecretsAtRest } from "./postgres-secrets-at-rest.ts";
import { openPostgresStore } from "./postgres-store.ts";

// A throwaway server for the file (test/helpers/postgres-server.ts), a database of its own per test.
let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** Container C1 of alice, named web, with `spec`: the one container these tests keep secrets for. */
function webContainer(spec: StoredSpec): ContainerRecord {
  return {
    id: "C1",
    owner: "alice",
    name: "web",
    image: "img",
    spec,
    dockerId: null,
    dockerName: "berth-C1",
    state: "created",
    health: "none",
    uid: 200_000,
    createdAt: 1,
    startedAt: null,
    exitCode: null,
    release: null,
    restartCount: 0,
  };
}

describe("secrets at rest in PostgreSQL", () => {
  let dir: string;
  let database: FreshDatabase;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-pg-key-"));
    database = await server.freshDatabase();
  });
  afterEach(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });
  const spec = { name: "web", secretEnv: { TOKEN: "plain-secret-value" } };
  const insertRaw = (url: string, json: unknown) =>
    onConnection(url, (c) =>
      c.query(
        `INSERT INTO containers (id, owner, name, image, spec, docker_name, state, uid, created_at)
         VALUES ('C1', 'alice', 'web', 'img', $1, 'berth-C1', 'created', 200000, 1)`,
        [JSON.stringify(json)],
      ),
    );

  it("makes the key at the first start, and the store seals with it", async () => {
    const keyFile = join(dir, "secret.key");
    const atRest = await openPostgresSecretsAtRest(database.url, keyFile);
    expect(atRest).toMatchObject({ createdKey: true, sealedNow: 0 });
    const store = await openPostgresStore(database.url, atRest.cipher);
    await store.containers.insert(webContainer(spec));
    await store.close();
    const again = await openPostgresSecretsAtRest(database.url, keyFile);
    expect(again).toMatchObject({ createdKey: false, sealedNow: 0 });
  });

  it("refuses to start when the key file is gone and the database holds sealed values", async () => {
    const keyFile = join(dir, "secret.key");
    const atRest = await openPostgresSecretsAtRest(database.url, keyFile);
    await insertRaw(database.url, {
      ...spec,
      secretEnv: { TOKEN: { $sealed: atRest.cipher.seal("x", "C1/secretEnv/TOKEN") } },
    });
    await rm(keyFile);
    await expect(openPostgresSecretsAtRest(database.url, keyFile)).rejects.toBeInstanceOf(SecretKeyError);
    await expect(openPostgresSecretsAtRest(database.url, join(dir, "other.key"))).rejects.toThrow(
      /is missing/,
    );
  });

  it("seals values stored in plain text by other means, in the database itself", async () => {
    await openPostgresSecretsAtRest(database.url, join(dir, "secret.key")); // the tables
    await insertRaw(database.url, spec);
    const atRest = await openPostgresSecretsAtRest(database.url, join(dir, "secret.key"));
    expect(atRest.sealedNow).toBe(1);
    const raw = await onConnection(database.url, (c) =>
      c.query<{ spec: string }>("SELECT spec::text AS spec FROM containers"),
    );
    expect(raw.rows[0]?.spec).not.toContain("plain-secret-value");
    const store = await openPostgresStore(database.url, atRest.cipher);
    expect((await store.containers.get("C1"))?.spec).toEqual(spec);
    await store.close();
  });
});

describe("rotating the key of secrets at rest in PostgreSQL", () => {
  it("seals every value with the new key alone, and berth reads them all with the rewritten key file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-pg-key-"));
    const database = await server.freshDatabase();
    try {
      const keyFile = join(dir, "secret.key");
      const atRest = await openPostgresSecretsAtRest(database.url, keyFile);
      const store = await openPostgresStore(database.url, atRest.cipher);
      const spec = { name: "web", env: { API_KEY: "k-1" }, secretEnv: { A: "a-1", B: "b-1" } };
      await store.containers.insert(webContainer(spec));
      await store.close();
      const oldKey = atRest.cipher.currentKeyId;
      const report = await rotatePostgresSecretKey(database.url, keyFile);
      expect(report).toMatchObject({ from: [oldKey], containers: 1, values: 3 });
      expect(report.to).not.toBe(oldKey);
      const raw = await onConnection(database.url, (c) =>
        c.query<{ spec: string }>("SELECT spec::text AS spec FROM containers"),
      );
      expect(raw.rows[0]?.spec).not.toContain(`:${oldKey}:`);
      const reopened = await openPostgresSecretsAtRest(database.url, keyFile);
      const after = await openPostgresStore(database.url, reopened.cipher);
      expect((await after.containers.get("C1"))?.spec).toEqual(spec);
      await after.close();
    } finally {
      await database.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
