import { chmodSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../store/sqlite/database.ts";
import { KeyRing } from "./key-ring.ts";
import { rotateSecretKey } from "./rotate-secret-key.ts";
import { openSpec, sealSpec } from "./sealed-spec.ts";
import { SecretCipher } from "./secret-cipher.ts";
import { SecretKeyError } from "./secret-key-error.ts";
import { openSecretsAtRest } from "./secrets-at-rest.ts";

const SECRET = "canary-at-rest-5e1f07";
const ENV_SECRET = "canary-env-pass-77ab";

describe("secrets at rest", () => {
  let dir: string;
  let keyFile: string;
  let db: DatabaseSync;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "sar-"));
    keyFile = join(dir, "keys", "secret.key");
    db = openDatabase(join(dir, "berth.db"));
  });
  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A row as an earlier berth wrote it: every value in plain text. */
  function insertPlainRow(id: string): void {
    const spec = {
      name: id.toLowerCase(),
      env: { DB_PASSWORD: ENV_SECRET, LOG_LEVEL: "debug" },
      secretEnv: { API_KEY: SECRET },
    };
    db.prepare(
      "INSERT INTO containers (id, owner, name, image, spec, docker_name, state, uid, created_at) VALUES (?, 'alice', ?, 'img', ?, ?, 'created', ?, 0)",
    ).run(id, spec.name, JSON.stringify(spec), `berth-${id}`, 200_000 + Number(id.slice(-1)));
  }
  const storedSpec = (id: string) =>
    (db.prepare("SELECT spec FROM containers WHERE id = ?").get(id) as { spec: string }).spec;

  it("creates the key file at first start, mode 0600 in a 0700 directory", () => {
    const { createdKey } = openSecretsAtRest(db, keyFile);
    expect(createdKey).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "keys")).mode & 0o777).toBe(0o700);
    expect(openSecretsAtRest(db, keyFile).createdKey).toBe(false);
  });

  it("seals the plain-text values of an earlier berth, secret-looking env included, and leaves the rest", () => {
    insertPlainRow("C00000000001");
    const { sealedNow, cipher } = openSecretsAtRest(db, keyFile);
    expect(sealedNow).toBe(2);
    const text = storedSpec("C00000000001");
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(ENV_SECRET);
    expect(text).toContain('"LOG_LEVEL":"debug"');
    const json = JSON.parse(text);
    expect(json.secretEnv.API_KEY.$sealed).toMatch(new RegExp(`^v1:${cipher.currentKeyId}:`));
    expect(cipher.open(json.secretEnv.API_KEY.$sealed, "C00000000001/secretEnv/API_KEY")).toBe(SECRET);
    expect(readFileSync(join(dir, "berth.db")).includes(SECRET)).toBe(false);
  });

  it("refuses to start when the key file is missing and the store holds sealed values", () => {
    insertPlainRow("C00000000001");
    openSecretsAtRest(db, keyFile);
    const elsewhere = join(dir, "other", "secret.key");
    expect(() => openSecretsAtRest(db, elsewhere)).toThrow(SecretKeyError);
    expect(() => openSecretsAtRest(db, elsewhere)).toThrow(/is missing.*Restore that key file/);
  });

  it("refuses a different key, and a key file others can read", () => {
    insertPlainRow("C00000000001");
    openSecretsAtRest(db, keyFile);
    const other = join(dir, "other.key");
    KeyRing.create(other);
    expect(() => openSecretsAtRest(db, other)).toThrow(/which .*other.key does not hold/);
    chmodSync(keyFile, 0o640);
    expect(() => openSecretsAtRest(db, keyFile)).toThrow(/can be read or written by others.*chmod 600/);
  });

  it("refuses a sealed value moved into another container's row", () => {
    insertPlainRow("C00000000001");
    insertPlainRow("C00000000002");
    openSecretsAtRest(db, keyFile);
    db.prepare("UPDATE containers SET spec = ? WHERE id = 'C00000000002'").run(storedSpec("C00000000001"));
    expect(() => openSecretsAtRest(db, keyFile)).toThrow(/does not open/);
  });

  it("rotates: a new key seals every value, the old one is retired, and the values still open", () => {
    insertPlainRow("C00000000001");
    insertPlainRow("C00000000002");
    const before = openSecretsAtRest(db, keyFile).cipher.currentKeyId;
    const report = rotateSecretKey(db, keyFile);
    expect(report).toMatchObject({ from: [before], containers: 2, values: 4 });
    expect(report.to).not.toBe(before);
    const ring = KeyRing.load(keyFile);
    expect(ring.ids).toEqual([report.to]);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(storedSpec("C00000000001")).not.toContain(`v1:${before}:`);
    const { cipher } = openSecretsAtRest(db, keyFile);
    const json = JSON.parse(storedSpec("C00000000002"));
    expect(cipher.open(json.env.DB_PASSWORD.$sealed, "C00000000002/env/DB_PASSWORD")).toBe(ENV_SECRET);
  });

  it("leaves the store readable with the old key file when re-sealing fails half-way", () => {
    insertPlainRow("C00000000001");
    const before = openSecretsAtRest(db, keyFile).cipher.currentKeyId;
    // A row whose sealed value does not open makes the transaction fail.
    db.prepare("UPDATE containers SET spec = ? WHERE id = 'C00000000001'").run(
      JSON.stringify({ name: "x", secretEnv: { API_KEY: { $sealed: `v1:${before}:AAAA:AAAA:AAAA` } } }),
    );
    const good = storedSpec("C00000000001");
    expect(() => rotateSecretKey(db, keyFile)).toThrow(SecretKeyError);
    expect(storedSpec("C00000000001")).toBe(good);
    const ring = KeyRing.load(keyFile);
    expect(ring.current.id).toBe(before); // the new key was added, but not made current
    expect(ring.ids).toHaveLength(2);
  });
});

describe("sealed specs", () => {
  it("opens a sealed value under any name, so a change to the secret-name rule loses nothing", () => {
    const cipher = new SecretCipher(KeyRing.ephemeral());
    const json = sealSpec(
      { name: "x", env: { API_TOKEN: "t0ken-value", PLAIN: "p" } },
      "C00000000001",
      cipher,
    );
    // As if API_TOKEN no longer counted as secret-looking: the value was sealed under the old rule.
    const env = json.env as Record<string, unknown>;
    env.RENAMED = { $sealed: cipher.seal("moved-value", "C00000000001/env/RENAMED") };
    expect(openSpec(json, "C00000000001", cipher).env).toEqual({
      API_TOKEN: "t0ken-value",
      PLAIN: "p",
      RENAMED: "moved-value",
    });
  });
});
