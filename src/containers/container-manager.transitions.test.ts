import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/config.ts";
import { prepareDataDir } from "../config/data-dir.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { StorageError } from "../errors/errors.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { ContainerChanges, ContainerStore } from "../store/store-ports.ts";
import { ContainerPaths } from "../workload-files/container-paths.ts";
import { LocalWorkloadFiles } from "../workload-files/local-workload-files.ts";
import { ContainerManager, type StatusChange } from "./container-manager.ts";
import { ContainerSpec } from "./container-spec.ts";
import { FakeWorkloadChannel } from "./testing/fake-workload-channel.ts";

const alice = { owner: "alice", admin: false };
const spec = ContainerSpec.parse({ name: "bot", code: { files: { "index.js": "x" } }, start: false });

/** Every state the manager writes goes through the transition table: what it lets through, and what it refuses. */
describe("ContainerManager's state writes, against the transition table", () => {
  let dataDir: string;
  let repo: ContainerStore;
  let manager: ContainerManager;
  let changes: StatusChange[];
  /** Fails the store's next write of this state, as a full disk would. */
  let failWriteOf: string | undefined;
  let close: () => Promise<void>;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cmt-"));
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_READY_TIMEOUT_MS: "3000" });
    prepareDataDir(config.dataDir, config.runDir);
    const store = openSqliteStore(join(dataDir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
    close = () => store.close();
    failWriteOf = undefined;
    const real = store.containers;
    const update = async (id: string, c: ContainerChanges) => {
      if (c.state !== undefined && c.state === failWriteOf) {
        failWriteOf = undefined;
        throw new StorageError();
      }
      return real.update(id, c);
    };
    repo = new Proxy(real, {
      get: (target, key) => {
        if (key === "update") return update;
        const value: unknown = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const secrets = new SecretRegistry();
    const log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    manager = new ContainerManager({
      config,
      docker: new FakeDockerClient(),
      repo,
      releases: store.releases,
      channel: new FakeWorkloadChannel(),
      secrets,
      log,
      instanceId: "test",
      files: new LocalWorkloadFiles(new ContainerPaths(config.dataDir, config.runDir)),
      egress: { protect: async () => {}, release: async () => {}, mark: () => 0, sweep: async () => {} },
    });
    changes = [];
    manager.on("statusChanged", (c) => changes.push(c));
  });
  afterEach(async () => {
    await close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("stops a container whose start the store could not finish recording (left `starting`)", async () => {
    const { id } = await manager.create(alice, spec);
    failWriteOf = "running";
    await expect(manager.start(alice, "bot", { waitReady: false })).rejects.toMatchObject({
      code: "STORAGE_ERROR",
    });
    expect((await repo.get(id))?.state).toBe("starting");
    // The owner's stop must get through: `starting` is a state a stop begins from (STOPPABLE).
    await expect(manager.stop(alice, "bot")).resolves.toMatchObject({ state: "stopped" });
    expect(changes.map((c) => `${c.from} → ${c.info.state}`)).toEqual([
      "new → created",
      "created → starting",
      "starting → stopping",
      "stopping → stopped",
    ]);
  });

  it("refuses a step of berth's own that the table does not list, before anything is written or told", async () => {
    const { id } = await manager.create(alice, spec);
    const record = await repo.get(id);
    if (!record) throw new Error("no row");
    await repo.update(id, { state: "missing" });
    record.state = "missing";
    changes.length = 0;
    await expect(manager.steps.reach(record, "running", "a start that cannot be")).rejects.toMatchObject({
      code: "INTERNAL",
      details: { transition: "missing → running", cause: "operation" },
    });
    expect(record.state).toBe("missing");
    expect((await repo.get(id))?.state).toBe("missing");
    expect(changes).toEqual([]);
  });

  it("records what the engine is seen to do as the engine's move, which no operation of berth's may make", async () => {
    const { id } = await manager.create(alice, spec);
    const record = await repo.get(id);
    if (!record) throw new Error("no row");
    await manager.steps.reach(record, "running", "started");
    // A container that vanished from the engine: reconciliation sees it; berth itself never makes it so.
    await expect(manager.steps.reach(record, "missing", "gone")).rejects.toMatchObject({ code: "INTERNAL" });
    await manager.observe(record, "missing", "engine container vanished");
    expect((await repo.get(id))?.state).toBe("missing");
  });
});
