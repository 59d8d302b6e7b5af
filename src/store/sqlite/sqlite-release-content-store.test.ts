import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { packRelease } from "../../code/pack-release.ts";
import { KeyRing } from "../../secrets/key-ring.ts";
import { SecretCipher } from "../../secrets/secret-cipher.ts";
import { MIGRATIONS } from "./migrations.ts";
import { openSqliteStore } from "./sqlite-store.ts";

// The shared contract (src/store/sqlite-store.test.ts) starts from an empty file; this one from a file
// made by a berth before release contents were kept.
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-contents-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a SQLite file made before release contents were kept", () => {
  it("migrates with its releases naming no content, and takes contents from then on", async () => {
    const before = MIGRATIONS.findIndex((m) => m.includes("release_contents"));
    expect(before).toBeGreaterThan(0);
    const path = join(dir, "berth.db");
    const old = new DatabaseSync(path);
    for (const [version, sql] of MIGRATIONS.slice(0, before).entries()) {
      old.exec(sql);
      old.exec(`PRAGMA user_version = ${version + 1}`);
    }
    old.exec(
      `INSERT INTO containers (id, owner, name, image, spec, docker_name, state, uid, created_at)
       VALUES ('C1', 'alice', 'web', 'berth/runtime-node:24', '{"name":"web"}', 'berth-C1', 'running', 200001, 1000);
       INSERT INTO releases (container_id, number, status, created_at, created_by, bytes, files, hash)
       VALUES ('C1', 1, 'active', 2000, 'alice', 10, 1, 'h1');`,
    );
    old.close();

    const store = openSqliteStore(path, new SecretCipher(KeyRing.ephemeral()));
    try {
      expect(await store.releases.get("C1", 1)).toMatchObject({ number: 1, contentDigest: null });
      const x = packRelease([{ path: "a.js", kind: "file", mode: 0o644, content: Buffer.from("next") }]);
      await store.releaseContents.put(x.digest, x.bytes);
      await store.releases.insert({
        containerId: "C1",
        number: 2,
        status: "pending",
        createdAt: 3000,
        createdBy: "alice",
        bytes: 4,
        files: 1,
        hash: "h2",
        contentDigest: x.digest,
      });
      expect((await store.releases.list("C1")).map((r) => r.contentDigest)).toEqual([x.digest, null]);
      expect(await store.releaseContents.sweepUnreferenced({ graceMs: 0 })).toBe(0);
    } finally {
      await store.close();
    }
  });
});
