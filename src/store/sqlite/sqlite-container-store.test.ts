import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeyRing } from "../../secrets/key-ring.ts";
import { SecretCipher } from "../../secrets/secret-cipher.ts";
import { NameTakenError, UidTakenError } from "../store-errors.ts";
import type { ContainerRecord, ReleaseRecord, Store } from "../store-ports.ts";
import { openDatabase } from "./database.ts";
import { openSqliteStore } from "./sqlite-store.ts";

describe("SqliteContainerStore", () => {
  let dir: string;
  let path: string;
  let store: Store;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "containers-"));
    path = join(dir, "berth.db");
    store = openSqliteStore(path, new SecretCipher(KeyRing.ephemeral()));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const container = (id: string, extra: Partial<ContainerRecord> = {}): ContainerRecord => ({
    id,
    owner: "alice",
    name: id.toLowerCase(),
    image: "img",
    spec: { name: id.toLowerCase() },
    dockerId: null,
    dockerName: `berth-${id}`,
    state: "running",
    health: "none",
    uid: 200_000,
    createdAt: Date.now(),
    startedAt: null,
    exitCode: null,
    release: 1,
    restartCount: 0,
    ...extra,
  });
  const release = (containerId: string, number: number, status: ReleaseRecord["status"]): ReleaseRecord => ({
    containerId,
    number,
    status,
    createdAt: 0,
    createdBy: "alice",
    bytes: 1,
    files: 1,
    hash: "h",
  });
  const statuses = async (id: string) =>
    (await store.releases.list(id)).map((r) => `${r.number}:${r.status}`).toReversed();

  it("refuses a name the owner already has with NameTakenError, and a taken uid with UidTakenError", async () => {
    await store.containers.insert(container("C1", { name: "bot", uid: 200_001 }));
    await expect(store.containers.insert(container("C2", { name: "bot", uid: 200_002 }))).rejects.toThrow(
      NameTakenError,
    );
    await expect(store.containers.insert(container("C3", { name: "other", uid: 200_001 }))).rejects.toThrow(
      UidTakenError,
    );
    // Another owner may use the name; neither refused insert left a row or a cached record.
    await store.containers.insert(container("C4", { owner: "bob", name: "bot", uid: 200_004 }));
    expect(await store.containers.get("C2")).toBeUndefined();
    expect(await store.containers.get("C3")).toBeUndefined();
    expect((await store.containers.getByName("alice", "bot"))?.id).toBe("C1");
  });

  it("switches releases in one transaction: the row's release, the new one active, the replaced one as asked", async () => {
    await store.containers.insert(container("C1", { release: 1 }));
    await store.releases.insert(release("C1", 1, "active"));
    await store.releases.insert(release("C1", 2, "pending"));
    await store.containers.switchRelease("C1", 2, "previous");
    expect((await store.containers.get("C1"))?.release).toBe(2);
    expect(await statuses("C1")).toEqual(["1:previous", "2:active"]);

    await store.containers.switchRelease("C1", 1, "rolled-back");
    expect((await store.containers.get("C1"))?.release).toBe(1);
    expect(await statuses("C1")).toEqual(["1:active", "2:rolled-back"]);
  });

  it("leaves the row, the releases and the cached record as they were when a switch fails", async () => {
    await store.containers.insert(container("C1", { release: 1 }));
    await store.releases.insert(release("C1", 1, "active"));
    await store.releases.insert(release("C1", 2, "pending"));
    // The last write of the switch fails, after the row's release and the replaced status were written.
    const other = openDatabase(path);
    other.exec(
      "CREATE TRIGGER refuse_active BEFORE UPDATE ON releases WHEN NEW.status = 'active' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    other.close();
    await expect(store.containers.switchRelease("C1", 2, "previous")).rejects.toThrow(/refused/);
    expect((await store.containers.get("C1"))?.release).toBe(1);
    expect(await statuses("C1")).toEqual(["1:active", "2:pending"]);
  });

  it("answers a container read again from its cache, as a copy the caller cannot change it through", async () => {
    await store.containers.insert(container("C1"));
    const first = await store.containers.get("C1");
    first!.state = "stopped";
    expect((await store.containers.get("C1"))?.state).toBe("running");
    await store.containers.update("C1", { state: "exited", exitCode: 3 });
    expect(await store.containers.get("C1")).toMatchObject({ state: "exited", exitCode: 3 });
  });
});
