import { closeSync, mkdirSync, openSync, statfsSync, writeSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
import { agreeing, holdings } from "../helpers/instance-holdings.ts";
import { mountTmpfs, stackReadOnlyBind, unmount, unmountAllUnder } from "../helpers/mounts.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import { reportReliability } from "../helpers/reliability-report.ts";
import { settled } from "../helpers/settled.ts";
import { type Client, docker, echoCode, startTestServer, type TestServer } from "../helpers/test-server.ts";
import { TEST_STORE } from "../helpers/test-store.ts";
import { versioned } from "../helpers/versioned.ts";

/**
 * Real storage faults under a running berth, on the shared engine: a data
 * directory that turns read-only and one that fills up. root ignores file
 * modes, so a chmod would prove nothing; these are real mounts.
 */

if (NEEDS_ROOT) console.warn(`storage-fault tests skipped: ${NEEDS_ROOT}`);

afterAll(() =>
  reportReliability(import.meta.filename, {
    id: "storage-faults",
    test: "Read-only data directory; full disk; a disk that fills halfway through a release",
    did: "creates, updates, stops and deletes against a read-only bind over the data directory and a 2 MiB tmpfs filled to the last byte, the last inode, or to 300 KiB short of a 600 KiB release",
    measured:
      "every refused operation answered STORAGE_ERROR (retryable, no host path in the answer); the same operation succeeded at the first try once the fault was gone",
    invariants:
      "rows, engine containers, code and socket directories agree after every refusal; a running workload keeps running and answering on its release; no release listed or on disk that was not completed (not even pending)",
  }),
);

describe.skipIf(NEEDS_ROOT)("when berth's data directory turns read-only", () => {
  let root: string;
  let dataDir: string;
  let server: TestServer;
  let alice: Client;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "sf-"));
    dataDir = join(root, "data");
    await mkdir(dataDir);
    server = await startTestServer({ BERTH_DATA_DIR: dataDir });
    alice = await server.connect("alice");
  });
  afterAll(async () => {
    await server?.close();
    if (root) {
      await unmountAllUnder(root);
      await rm(root, { recursive: true, force: true });
    }
  });

  it("answers STORAGE_ERROR to a create, leaves nothing behind, and creates again once writable", async () => {
    const before = await alice.containers.create({ name: "before", code: await echoCode() });

    await stackReadOnlyBind(dataDir);
    try {
      for (const spec of [
        { name: "with-code", code: await echoCode() },
        // Without code, the first write is the container's socket directory.
        { name: "without-code", start: false },
      ]) {
        // In berth's answer shape, so that the whole refusal (its message too) is searched for a path.
        const res = await settled(alice.containers.create(spec));
        expect(res, spec.name).toMatchObject({
          ok: false,
          error: { code: "STORAGE_ERROR", category: "system", retryable: true },
        });
        expect(JSON.stringify(res)).not.toContain(root); // no host path reaches a client
      }
      // The container that was there before is untouched; the refused ones left no row, engine container
      // or directory behind.
      expect(await holdings(server, alice, docker)).toEqual(agreeing([before.id]));
      expect(await before.status()).toMatchObject({ state: "running" });
    } finally {
      await unmount(dataDir);
    }

    const again = await alice.containers.create({ name: "with-code", code: await echoCode() });
    expect(again.info.state).toBe("running");
    expect(await holdings(server, alice, docker)).toEqual(agreeing([before.id, again.id]));
  });

  it("answers STORAGE_ERROR to a delete it cannot finish, and finishes it when asked again once writable", async () => {
    const doomed = await alice.containers.create({ name: "doomed", code: await echoCode() });
    const { rows: others } = await holdings(server, alice, docker);

    await stackReadOnlyBind(dataDir);
    try {
      await expect(doomed.delete()).rejects.toMatchObject({ code: "STORAGE_ERROR", category: "system" });
      // Half done, and says so: the engine container is gone, the row says removing until the files are.
      expect(await doomed.status()).toMatchObject({ state: "removing" });
    } finally {
      await unmount(dataDir);
    }

    expect(await doomed.delete()).toEqual({ id: doomed.id, deleted: true });
    expect(await holdings(server, alice, docker)).toEqual(agreeing(others.filter((id) => id !== doomed.id)));
  });

  it("answers STORAGE_ERROR to an update, keeps the workload on its release, half-writes nothing, and updates once writable", async () => {
    const app = await alice.containers.create({ name: "ro-update", code: versioned("v1") });
    await stackReadOnlyBind(dataDir);
    try {
      await expectUpdateRefused(server, app, versioned("v2"));
    } finally {
      await unmount(dataDir);
    }
    const updated = await app.update(versioned("v2"));
    expect(await app.request({ version: true })).toBe("v2");
    await expectReleasesOnDisk(server, app, [1, updated.release]);
    await app.delete();
  });
});

describe.skipIf(NEEDS_ROOT)("when berth's disk is full", () => {
  let root: string;
  let dataDir: string;
  let filler: string;
  let inodeFiller: string;
  let server: TestServer;
  let alice: Client;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "sd-"));
    dataDir = join(root, "d");
    await mkdir(dataDir);
    await mountTmpfs(dataDir, "2m", 256);
    filler = join(dataDir, "filler");
    inodeFiller = join(dataDir, "inodes");
    // The run directory on the same tiny disk, with a short path (a socket path has at most 107 bytes).
    server = await startTestServer({ BERTH_DATA_DIR: dataDir, BERTH_RUN_DIR: join(dataDir, "r") });
    alice = await server.connect("alice");
  });
  afterAll(async () => {
    await server?.close();
    if (root) {
      await unmountAllUnder(root);
      await rm(root, { recursive: true, force: true });
    }
  });

  it("answers STORAGE_ERROR to a create, leaves nothing behind, and creates again once there is room", async () => {
    fillToTheBrim(filler);
    expect((await statfs(dataDir)).bavail).toBe(0);
    try {
      await expect(
        alice.containers.create({ name: "no-room", code: await echoCode() }),
      ).rejects.toMatchObject({
        code: "STORAGE_ERROR",
        category: "system",
        retryable: true,
      });
      expect(await holdings(server, alice, docker)).toEqual(agreeing([]));
    } finally {
      await rm(filler);
    }

    const created = await alice.containers.create({ name: "no-room", code: await echoCode() });
    expect(created.info.state).toBe("running");
    expect(await holdings(server, alice, docker)).toEqual(agreeing([created.id]));
    await created.delete();
  });

  it("answers STORAGE_ERROR when no file can be made, undoing the row it had written", async () => {
    // Space for the store to grow, but no inode left for the code and socket directories.
    const made = fillInodes(inodeFiller);
    try {
      await expect(
        alice.containers.create({ name: "no-inode", code: await echoCode() }),
      ).rejects.toMatchObject({
        code: "STORAGE_ERROR",
        category: "system",
        details: { reason: "ENOSPC" },
      });
      expect(await holdings(server, alice, docker)).toEqual(agreeing([]));
    } finally {
      await rm(inodeFiller, { recursive: true, force: true });
    }
    expect(made).toBeGreaterThan(0);

    const created = await alice.containers.create({ name: "no-inode", code: await echoCode() });
    expect(await holdings(server, alice, docker)).toEqual(agreeing([created.id]));
    await created.delete();
  });

  // This and the next fill the disk the store is on: with PostgreSQL it is elsewhere, and that store's
  // own failures are tested in src/store/postgres/ (a read-only, a stopped, a cut-off server).
  const onSqlite = TEST_STORE === "postgres" ? it.skip : it;
  onSqlite("leaves a running container as it was when it cannot record a stop or a delete", async () => {
    const kept = await alice.containers.create({ name: "kept", code: await echoCode() });
    fillToTheBrim(filler);
    try {
      for (const [op, attempt] of Object.entries({ stop: () => kept.stop(), delete: () => kept.delete() })) {
        await expect(attempt(), op).rejects.toMatchObject({
          code: "STORAGE_ERROR",
          category: "system",
          retryable: true,
        });
      }
    } finally {
      await rm(filler);
    }
    expect(await kept.status()).toMatchObject({ state: "running" });
    expect((await docker.getContainer(`berth-${kept.id}`).inspect()).State.Running).toBe(true);
    expect(await holdings(server, alice, docker)).toEqual(agreeing([kept.id]));
    await kept.delete();
  });

  // Every store write goes through guardStorage, so a full disk is STORAGE_ERROR whatever the operation.
  onSqlite("answers STORAGE_ERROR, not INTERNAL, to a stop or a delete it cannot record", async () => {
    const kept = await alice.containers.create({ name: "kept-2", code: await echoCode() });
    fillToTheBrim(filler);
    try {
      for (const [op, attempt] of Object.entries({ stop: () => kept.stop(), delete: () => kept.delete() })) {
        await expect(attempt(), op).rejects.toMatchObject({ code: "STORAGE_ERROR", category: "system" });
      }
    } finally {
      await rm(filler);
      await settled(kept.delete());
    }
  });

  it("undoes a create that runs out of room halfway through its files", async () => {
    // Room for the row and the small files, not for the 600 KiB one written after them.
    fillLeaving(filler, 300 * 1024);
    const code = { files: { ...(await echoCode()).files, "zz-blob.txt": "x".repeat(600 * 1024) } };
    try {
      await expect(alice.containers.create({ name: "half-create", code })).rejects.toMatchObject({
        code: "STORAGE_ERROR",
        retryable: true,
      });
      expect(await holdings(server, alice, docker)).toEqual(agreeing([]));
    } finally {
      await rm(filler);
    }
    const created = await alice.containers.create({ name: "half-create", code });
    expect(await holdings(server, alice, docker)).toEqual(agreeing([created.id]));
    await created.delete();
  });

  it("answers STORAGE_ERROR to an update with no room left, and updates once there is room", async () => {
    const app = await alice.containers.create({ name: "full-update", code: versioned("v1") });
    fillToTheBrim(filler);
    try {
      await expectUpdateRefused(server, app, versioned("v2"));
    } finally {
      await rm(filler);
    }
    const updated = await app.update(versioned("v2"));
    expect(await app.request({ version: true })).toBe("v2");
    await expectReleasesOnDisk(server, app, [1, updated.release]);
    await app.delete();
  });

  it("undoes a release that runs out of room halfway through its files", async () => {
    const app = await alice.containers.create({ name: "half-update", code: versioned("v1") });
    // Room for the small files, not for the 600 KiB one written after them: the disk fills mid-release.
    fillLeaving(filler, 300 * 1024);
    const big = versioned("v2");
    const code = { files: { ...big.files, "zz-blob.txt": "x".repeat(600 * 1024) } };
    try {
      await expectUpdateRefused(server, app, code);
    } finally {
      await rm(filler);
    }
    const updated = await app.update(code);
    expect(await app.request({ version: true })).toBe("v2");
    await expectReleasesOnDisk(server, app, [1, updated.release]);
    await app.delete();
  });
});

/**
 * An update refused for want of storage: STORAGE_ERROR (retryable), the
 * workload still runs its release and answers from it, and no release was
 * left half-made — neither listed (not even `pending`) nor on disk.
 */
async function expectUpdateRefused(server: TestServer, app: Container, code: object): Promise<void> {
  const before = await app.status();
  await expect(app.update(code as Parameters<Container["update"]>[0])).rejects.toMatchObject({
    code: "STORAGE_ERROR",
    category: "system",
    retryable: true,
  });
  expect(await app.status()).toMatchObject({ state: "running", release: before.release });
  expect(await app.request({ version: true })).toBe("v1");
  await expectReleasesOnDisk(server, app, [before.release as number]);
}

/** The releases berth lists for `app` are `numbers`, and exactly those are on disk. */
async function expectReleasesOnDisk(server: TestServer, app: Container, numbers: number[]): Promise<void> {
  const listed = (await app.releases()).map((r) => r.number).sort((a, b) => a - b);
  expect(listed).toEqual([...numbers].sort((a, b) => a - b));
  const dir = join(server.berth.config.dataDir, "code", app.id, "releases");
  expect((await readdir(dir)).map(Number).sort((a, b) => a - b)).toEqual(listed);
}

/** Makes empty files under `dir` until the file system has no inode left; returns how many. */
function fillInodes(dir: string): number {
  mkdirSync(dir);
  for (let n = 0; ; n++) {
    try {
      closeSync(openSync(join(dir, String(n)), "wx"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOSPC") return n;
      throw err;
    }
  }
}

/** Writes `file` until the file system has not one byte left. */
function fillToTheBrim(file: string): void {
  const fd = openSync(file, "a");
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 0x66);
      for (;;) {
        try {
          if (writeSync(fd, chunk) < size) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Fills the file system of `file` until only `left` bytes remain free. */
function fillLeaving(file: string, left: number): void {
  const { bavail, bsize } = statfsSync(file.slice(0, file.lastIndexOf("/")));
  const fd = openSync(file, "a");
  try {
    let remaining = bavail * bsize - left;
    const chunk = Buffer.alloc(64 * 1024, 0x66);
    while (remaining > 0) remaining -= writeSync(fd, chunk, 0, Math.min(chunk.length, remaining));
  } finally {
    closeSync(fd);
  }
}
