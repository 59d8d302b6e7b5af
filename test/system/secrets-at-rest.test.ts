import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, readdir, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Client,
  echoCode,
  removeInstance,
  startTestServer,
  type TestServer,
} from "../helpers/test-server.ts";
import { TEST_STORE } from "../helpers/test-store.ts";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;

const ALICE_SECRET = "canary-alice-at-rest-91c2e4";
const ALICE_ENV_TOKEN = "canary-alice-env-token-3b7d";
const BOB_SECRET = "canary-bob-at-rest-0f8a66";
const CANARIES = [ALICE_SECRET, ALICE_ENV_TOKEN, BOB_SECRET];

/** Every file under `dir`, with its bytes. */
async function filesUnder(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, bytes: await readFile(path) });
  }
  return out;
}

/** The canaries (in UTF-8, and in UTF-16 as a cautious second look) found in any of the files. */
function leaks(files: Array<{ path: string; bytes: Buffer }>): string[] {
  const found: string[] = [];
  for (const { path, bytes } of files) {
    for (const canary of CANARIES) {
      if (bytes.includes(canary) || bytes.includes(Buffer.from(canary, "utf16le")))
        found.push(`${canary} in ${path}`);
    }
  }
  return found;
}

/** Runs `npm run secrets:rotate-key`'s script as its own process, as an operator would. */
function rotate(env: Record<string, string>) {
  return run(process.execPath, ["src/cli/rotate-secret-key.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...env },
  });
}

// SQLite's file itself (berth.db, its WAL, the rotation CLI on it); PostgreSQL's side is in
// src/store/postgres/postgres-store.test.ts and test/system/database-url-secrecy.test.ts.
describe.skipIf(TEST_STORE === "postgres")("secrets at rest", () => {
  let dataDir: string;
  let keyDir: string;
  let keyFile: string;
  let env: Record<string, string>;
  let server: TestServer | undefined;
  let instanceId = "";
  const ids: Record<string, string> = {};

  async function start(): Promise<{ alice: Client; bob: Client }> {
    server = await startTestServer(env);
    instanceId = server.berth.instanceId;
    return { alice: await server.connect("alice"), bob: await server.connect("bob") };
  }
  async function stop(): Promise<void> {
    await server?.berth.close();
    if (server) await rm(server.dataDir, { recursive: true, force: true }); // the helper's own spare directory
    server = undefined;
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "sr-"));
    keyDir = await mkdtemp(join(tmpdir(), "sk-"));
    keyFile = join(keyDir, "conf", "secret.key");
    env = { BERTH_DATA_DIR: dataDir, BERTH_SECRET_KEY_FILE: keyFile };
    const { alice, bob } = await start();
    const [a, b] = await Promise.all([
      alice.containers.create({
        name: "vault",
        code: await echoCode(),
        secretEnv: { STRIPE_KEY: ALICE_SECRET },
        env: { API_TOKEN: ALICE_ENV_TOKEN, MODE: "plain-value-kept" },
      }),
      bob.containers.create({
        name: "vault",
        code: await echoCode(),
        secretEnv: { STRIPE_KEY: BOB_SECRET },
      }),
    ]);
    ids.alice = a.id;
    ids.bob = b.id;
    await stop();
  });
  afterAll(async () => {
    await stop();
    if (instanceId) await removeInstance(instanceId);
    await rm(dataDir, { recursive: true, force: true });
    await rm(keyDir, { recursive: true, force: true });
  });

  it("keeps no secret in berth.db, its WAL or any other file of the data directory", async () => {
    const files = await filesUnder(dataDir);
    expect(files.map((f) => f.path)).toContain(join(dataDir, "berth.db"));
    expect(leaks(files)).toEqual([]);
    // The plain env value is stored as it was: only secret values are sealed.
    expect(Buffer.concat(files.map((f) => f.bytes)).includes("plain-value-kept")).toBe(true);
  });

  it("made the key file outside the data directory, mode 0600, and it is all it takes to read them back", async () => {
    expect(existsSync(keyFile)).toBe(true);
    expect((await import("node:fs")).statSync(keyFile).mode & 0o777).toBe(0o600);
    const { alice } = await start();
    expect((await server?.berth.manager.findById(ids.alice!))?.spec).toMatchObject({
      secretEnv: { STRIPE_KEY: ALICE_SECRET },
      env: { API_TOKEN: ALICE_ENV_TOKEN },
    });
    expect((await server?.berth.manager.findById(ids.bob!))?.spec.secretEnv).toEqual({
      STRIPE_KEY: BOB_SECRET,
    });
    // While berth runs, what it just wrote sits in the WAL: no secret there either.
    const extra = await alice.containers.create({
      name: "vault-2",
      code: await echoCode(),
      secretEnv: { STRIPE_KEY: ALICE_SECRET },
      start: false,
    });
    const files = await filesUnder(dataDir);
    expect(files.find((f) => f.path.endsWith("berth.db-wal"))?.bytes.length).toBeGreaterThan(0);
    expect(files.map((f) => f.path)).toContain(join(dataDir, "berth.db-shm"));
    expect(leaks(files)).toEqual([]);
    await extra.delete();
    await stop();
  });

  it("refuses to start, exiting 2 with a message that names the key file, when others can read the key", async () => {
    await chmod(keyFile, 0o604);
    const exit = await run(process.execPath, ["src/main.ts"], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        BERTH_PORT: "0",
        BERTH_TOKENS: "alice:alice-token-0123456789",
        ...env,
      },
    }).catch((err: { code: number; stderr: string }) => err);
    await chmod(keyFile, 0o600);
    expect(exit).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`secret key: ${keyFile} can be read`),
    });
    for (const canary of CANARIES) expect(JSON.stringify(exit)).not.toContain(canary);
  });

  it("refuses to start without the key, with a different key, or with a key others can read", async () => {
    await rename(keyFile, `${keyFile}.away`);
    await expect(startTestServer(env)).rejects.toThrow(/secret key: .*secret\.key is missing/);
    await expect(
      startTestServer({ ...env, BERTH_SECRET_KEY_FILE: join(keyDir, "fresh", "secret.key") }),
    ).rejects.toThrow(/is missing/); // no new key is made while sealed values wait for the old one
    await rename(`${keyFile}.away`, keyFile);
    await chmod(keyFile, 0o644);
    await expect(startTestServer(env)).rejects.toThrow(/can be read or written by others/);
    await chmod(keyFile, 0o600);
  });

  it("rotates the key: every value is sealed with the new one, the old key is gone, berth reads them all", async () => {
    const before = JSON.parse(readFileSync(keyFile, "utf8")) as { current: string };
    const { stdout } = await rotate(env);
    expect(stdout).toMatch(/sealed 3 secret values of 2 containers/);
    const after = JSON.parse(readFileSync(keyFile, "utf8")) as {
      current: string;
      keys: Array<{ id: string }>;
    };
    expect(after.current).not.toBe(before.current);
    expect(after.keys.map((k) => k.id)).toEqual([after.current]);
    const db = new DatabaseSync(join(dataDir, "berth.db"), { readOnly: true });
    const specs = (db.prepare("SELECT spec FROM containers").all() as Array<{ spec: string }>).map(
      (r) => r.spec,
    );
    db.close();
    for (const spec of specs) {
      expect(spec).not.toContain(`v1:${before.current}:`);
      expect(spec).toContain(`v1:${after.current}:`);
    }
    expect(leaks(await filesUnder(dataDir))).toEqual([]);
    const { alice } = await start();
    expect((await server?.berth.manager.findById(ids.alice!))?.spec.secretEnv).toEqual({
      STRIPE_KEY: ALICE_SECRET,
    });
    expect((await alice.containers.get("vault")).id).toBe(ids.alice);
  });

  it("refuses to rotate while berth runs on the data directory", async () => {
    expect(server).toBeDefined();
    await expect(rotate(env)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/berth is running/),
    });
    await stop();
  });

  it("seals at the next start what an earlier berth stored in plain text", async () => {
    const db = new DatabaseSync(join(dataDir, "berth.db"));
    const row = db.prepare("SELECT spec FROM containers WHERE id = ?").get(ids.bob!) as { spec: string };
    const spec = JSON.parse(row.spec);
    spec.secretEnv = { STRIPE_KEY: BOB_SECRET }; // as berth stored it before secrets were sealed
    db.prepare("UPDATE containers SET spec = ? WHERE id = ?").run(JSON.stringify(spec), ids.bob!);
    db.close();
    expect(leaks(await filesUnder(dataDir))).not.toEqual([]);
    await start();
    expect(server?.logs()).toMatch(/sealed secret values stored in plain text by an earlier berth/);
    expect((await server?.berth.manager.findById(ids.bob!))?.spec.secretEnv).toEqual({
      STRIPE_KEY: BOB_SECRET,
    });
    await stop();
    expect(leaks(await filesUnder(dataDir))).toEqual([]);
  });
});
