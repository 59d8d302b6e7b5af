import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KeyRing } from "../../secrets/key-ring.ts";
import { SecretCipher } from "../../secrets/secret-cipher.ts";
import type { ContainerRecord, Store } from "../store-ports.ts";
import { openSqliteStore } from "./sqlite-store.ts";

describe("SqliteOwnerUsageStore", () => {
  let dir: string;
  let store: Store;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "usage-"));
    store = openSqliteStore(join(dir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  let uid = 200_000;
  const container = (owner: string, id: string, extra: Partial<ContainerRecord> = {}): ContainerRecord => ({
    id,
    owner,
    name: id.toLowerCase(),
    image: "img",
    spec: { name: id.toLowerCase() },
    dockerId: null,
    dockerName: `berth-${id}`,
    state: "created",
    health: "none",
    uid: uid++,
    createdAt: Date.now(),
    startedAt: null,
    exitCode: null,
    release: null,
    restartCount: 0,
    ...extra,
  });
  const release = (containerId: string, number: number, bytes: number) =>
    store.releases.insert({
      containerId,
      number,
      status: "previous",
      createdAt: 0,
      createdBy: "x",
      bytes,
      files: 1,
      hash: "h",
    });

  it("reads each of an owner's containers: state, its own resources (or none), and every release's bytes", async () => {
    await store.containers.insert(
      container("alice", "C1", {
        state: "running",
        spec: { name: "c1", resources: { memoryMb: 128, cpus: 0.5 } },
      }),
    );
    await store.containers.insert(container("alice", "C2"));
    await store.containers.insert(container("bob", "C3", { state: "running" }));
    await release("C1", 1, 1000);
    await release("C1", 2, 500);
    await release("C3", 1, 7);
    const rows = (await store.usage.containersOf("alice")).sort((a, b) => a.id.localeCompare(b.id));
    expect(rows).toEqual([
      { id: "C1", state: "running", memoryMb: 128, cpus: 0.5, codeBytes: 1500 },
      { id: "C2", state: "created", memoryMb: null, cpus: null, codeBytes: 0 },
    ]);
    expect(await store.usage.containersOf("carol")).toEqual([]);
  });
});
