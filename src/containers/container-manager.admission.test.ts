import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { containerUsage } from "../admission/container-usage.ts";
import { EngineAdmission } from "../admission/engine-admission.ts";
import { FairQueue } from "../admission/fair-queue.ts";
import { QuotaLedger } from "../admission/quota-ledger.ts";
import { loadConfig } from "../config/config.ts";
import { prepareDataDir } from "../config/data-dir.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { DockerError } from "../errors/errors.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import { ContainerPaths } from "../workload-files/container-paths.ts";
import { LocalWorkloadFiles } from "../workload-files/local-workload-files.ts";
import { ContainerManager } from "./container-manager.ts";
import { ContainerSpec } from "./container-spec.ts";
import { FakeWorkloadChannel } from "./testing/fake-workload-channel.ts";

const alice = { owner: "alice", admin: false };
const bob = { owner: "bob", admin: false };
const admin = { owner: "admin", admin: true };
const spec = (name: string, extra: Record<string, unknown> = {}) =>
  ContainerSpec.parse({ name, waitReady: false, ...extra });

describe("ContainerManager with admission control (fake engine)", () => {
  let dataDir: string;
  let docker: FakeDockerClient;
  let manager: ContainerManager;
  let ledger: QuotaLedger;
  let queue: FairQueue;
  let close: () => Promise<void>;
  /** While set, the egress filter's install and removal wait for `done`, as a slow iptables does. */
  let slowFilter: { entered: PromiseWithResolvers<void>; done: PromiseWithResolvers<void> } | undefined;
  let filterCalls = 0;
  const filterStep = () => {
    filterCalls++;
    if (!slowFilter) return Promise.resolve();
    slowFilter.entered.resolve();
    return slowFilter.done.promise;
  };

  beforeEach(async () => {
    slowFilter = undefined;
    dataDir = await mkdtemp(join(tmpdir(), "cma-"));
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_ALLOW_NETWORK: "true" });
    prepareDataDir(config.dataDir, config.runDir);
    const store = openSqliteStore(join(dataDir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
    close = () => store.close();
    docker = new FakeDockerClient();
    const defaults = { memoryMb: 256, cpus: 1 };
    const usage = store.usage;
    ledger = new QuotaLedger(
      {
        usageOf: async (o) =>
          (await usage.containersOf(o)).map((u) => ({ id: u.id, usage: containerUsage(u, defaults) })),
      },
      () => ({ containers: 2, running: 1, memoryMb: 1024, cpus: 4, codeMb: 1 }),
    );
    queue = new FairQueue({ concurrency: 1, maxWaitingPerOwner: 0, maxWaiting: 0 });
    const secrets = new SecretRegistry();
    manager = new ContainerManager({
      config,
      docker,
      repo: store.containers,
      releases: store.releases,
      channel: new FakeWorkloadChannel(),
      egress: { protect: filterStep, release: filterStep, mark: () => 0, sweep: async () => {} },
      secrets,
      log: createSystemLogger({ level: "silent", redactor: secrets.system, destination: new PassThrough() }),
      instanceId: "test",
      files: new LocalWorkloadFiles(new ContainerPaths(config.dataDir, config.runDir)),
      admission: new EngineAdmission(ledger, queue, defaults),
    });
  });
  afterEach(async () => {
    await close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("gives the quota back when the engine refuses a create", async () => {
    docker.failNext("createContainer", new DockerError("injected", 500));
    await expect(manager.create(alice, spec("a"))).rejects.toThrow("injected");
    expect(await ledger.usage("alice")).toMatchObject({ containers: 0, running: 0, memoryMb: 0 });
    expect(queue.running).toBe(0);
  });

  it("counts a started container as running from the store once the create is done, and nothing twice", async () => {
    await manager.create(alice, spec("a"));
    expect(await ledger.usage("alice")).toMatchObject({ containers: 1, running: 1, memoryMb: 256, cpus: 1 });
    await manager.stop(alice, "a");
    expect(await ledger.usage("alice")).toMatchObject({ containers: 1, running: 0, memoryMb: 0 });
    await manager.delete(alice, "a");
    expect((await ledger.usage("alice")).containers).toBe(0);
  });

  it("refuses a start with a full engine queue without touching the container, and gives the quota back", async () => {
    await manager.create(alice, spec("a", { start: false }));
    const held = await queue.acquire("someone-else");
    await expect(manager.start(alice, "a")).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect((await manager.status(alice, "a")).state).toBe("created");
    expect((await ledger.usage("alice")).running).toBe(0);
    held.release();
    expect((await manager.start(alice, "a", { waitReady: false })).state).toBe("running");
  });

  it("lets the admin wait for a turn where an owner is refused", async () => {
    await manager.create(alice, spec("a", { start: false }));
    const held = await queue.acquire("someone-else");
    const started = manager.start(admin, "a", { waitReady: false });
    held.release();
    expect((await started).state).toBe("running");
  });

  describe("while the egress filter is slow (iptables), it holds no turn at the engine", () => {
    const outbound = (name: string, extra: Record<string, unknown> = {}) =>
      spec(name, { network: "outbound", ...extra });

    /** Runs `op` until it waits in the filter, checks that bob's create gets the engine meanwhile, then lets it finish. */
    async function meanwhileBobCreates<T>(op: () => Promise<T>): Promise<T> {
      const slow = { entered: Promise.withResolvers<void>(), done: Promise.withResolvers<void>() };
      slowFilter = slow;
      const pending = op();
      try {
        await slow.entered.promise;
        expect(queue.running).toBe(0);
        // One turn in all and no waiting allowed: bob would be RATE_LIMITED if alice held it.
        const bobs = await manager.create(bob, spec("bobs"));
        expect(bobs.state).toBe("running");
      } finally {
        slowFilter = undefined;
        slow.done.resolve();
      }
      return pending;
    }

    it("on create", async () => {
      await expect(meanwhileBobCreates(() => manager.create(alice, outbound("a")))).resolves.toMatchObject({
        state: "running",
      });
    });

    it("on start", async () => {
      await manager.create(alice, outbound("a", { start: false }));
      await expect(
        meanwhileBobCreates(() => manager.start(alice, "a", { waitReady: false })),
      ).resolves.toMatchObject({ state: "running" });
    });

    it("on restart", async () => {
      await manager.create(alice, outbound("a"));
      await expect(
        meanwhileBobCreates(() => manager.restart(alice, "a", { waitReady: false })),
      ).resolves.toMatchObject({ state: "running" });
    });

    it("on delete, when the owner's network and its rules go", async () => {
      await manager.create(alice, outbound("a"));
      await expect(meanwhileBobCreates(() => manager.delete(alice, "a"))).resolves.toMatchObject({
        deleted: true,
      });
    });

    it("and nothing refused by the quota runs it", async () => {
      await manager.create(alice, spec("a"));
      await manager.create(alice, outbound("b", { start: false }));
      filterCalls = 0;
      await expect(manager.start(alice, "b")).rejects.toMatchObject({ code: "QUOTA_EXCEEDED" });
      await expect(manager.create(alice, outbound("c", { start: false }))).rejects.toMatchObject({
        code: "QUOTA_EXCEEDED",
      });
      expect(filterCalls).toBe(0);
    });
  });
});
