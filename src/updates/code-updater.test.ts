import * as fs from "node:fs/promises";
import { mkdtemp, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { containerUsage } from "../admission/container-usage.ts";
import { EngineAdmission } from "../admission/engine-admission.ts";
import { FairQueue } from "../admission/fair-queue.ts";
import { QuotaLedger } from "../admission/quota-ledger.ts";
import { FakeOwnerLockServer } from "../cluster/testing/fake-owner-locks.ts";
import { switchRelease } from "../code/release-pointer.ts";
import { loadConfig } from "../config/config.ts";
import { prepareDataDir } from "../config/data-dir.ts";
import { ContainerManager } from "../containers/container-manager.ts";
import { ContainerSpec } from "../containers/container-spec.ts";
import { CutByCrash } from "../containers/cut-by-crash.ts";
import { type InterruptedOperation, InterruptedOperations } from "../containers/interrupted-operation.ts";
import { FakeWorkloadChannel } from "../containers/testing/fake-workload-channel.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { BerthError } from "../errors/berth-error.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger, type SystemLogger } from "../logging/system-logger.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { ReleaseStore } from "../store/store-ports.ts";
import { ContainerPaths } from "../workload-files/container-paths.ts";
import { LocalWorkloadFiles } from "../workload-files/local-workload-files.ts";
import { CodeUpdater } from "./code-updater.ts";
import { unremovable } from "./testing/unremovable-paths.ts";
import { recoverUpdates } from "./update-recovery.ts";

// `rm` as node:fs has it, except under a path a test has made unremovable.
vi.mock("node:fs/promises", async (importOriginal) =>
  (await import("./testing/unremovable-paths.ts")).withUnremovablePaths(importOriginal),
);

const alice = { owner: "alice", admin: false };
const bob = { owner: "bob", admin: false };
const code = (text: string) => ({ files: { "index.js": text } });

describe("CodeUpdater (fake engine)", () => {
  let dataDir: string;
  let manager: ContainerManager;
  let updater: CodeUpdater;
  let releases: ReleaseStore;
  let ledger: QuotaLedger;
  /** The owners' admission locks, as one of several servers on a database holds them (one server here). */
  let ownerLocks: FakeOwnerLockServer;
  let paths: ContainerPaths;
  let log: SystemLogger;
  let healthAnswer: () => Promise<unknown>;
  let close: () => Promise<void>;

  beforeEach(async () => {
    unremovable.clear();
    dataDir = await mkdtemp(join(tmpdir(), "cua-"));
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_KEEP_RELEASES: "2" });
    prepareDataDir(config.dataDir, config.runDir);
    const store = openSqliteStore(join(dataDir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
    close = () => store.close();
    const defaults = { memoryMb: 256, cpus: 1 };
    const usage = store.usage;
    ownerLocks = new FakeOwnerLockServer();
    ledger = new QuotaLedger(
      {
        usageOf: async (o) =>
          (await usage.containersOf(o)).map((u) => ({ id: u.id, usage: containerUsage(u, defaults) })),
      },
      () => ({ containers: 30, running: 1, memoryMb: 1024, cpus: 4, codeMb: 1 }),
      ownerLocks.server(),
    );
    const admission = new EngineAdmission(
      ledger,
      new FairQueue({ concurrency: 1, maxWaitingPerOwner: 4, maxWaiting: 8 }),
      defaults,
    );
    const secrets = new SecretRegistry();
    log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    releases = store.releases;
    paths = new ContainerPaths(config.dataDir, config.runDir);
    manager = new ContainerManager({
      config,
      docker: new FakeDockerClient(),
      repo: store.containers,
      releases,
      channel: new FakeWorkloadChannel(),
      // Nothing here asks for network: 'outbound', so the guard is never consulted.
      egress: { protect: async () => {}, release: async () => {}, mark: () => 0, sweep: async () => {} },
      secrets,
      log,
      instanceId: "test",
      files: new LocalWorkloadFiles(paths),
      admission,
    });
    healthAnswer = async () => ({ ok: true });
    updater = new CodeUpdater({
      config,
      lifecycle: manager.steps,
      releases,
      containers: store.containers,
      channel: { request: () => healthAnswer() },
      files: new LocalWorkloadFiles(paths),
      log,
      admission,
    });
  });
  afterEach(async () => {
    await close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The container's row as it is now. */
  const current = async (id: string) => {
    const record = await manager.findById(id);
    if (!record) throw new Error(`no container ${id}`);
    return record;
  };
  const create = (actor: typeof alice, name: string, start: boolean) =>
    manager.create(actor, ContainerSpec.parse({ name, code: code("v1"), start, waitReady: false }));

  describe("the running quota", () => {
    it("refuses to update a stopped container past it before writing or switching anything, and lets bob update his", async () => {
      await create(alice, "up", true);
      const stopped = await create(alice, "down", false);
      const pointer = await readlink(join(paths.codeDir(stopped.id), "current"));

      await expect(updater.update(alice, "down", { code: code("v2") })).rejects.toMatchObject({
        code: "QUOTA_EXCEEDED",
        details: { quota: "running", usage: 1, requested: 1, limit: 1 },
      });
      expect((await manager.status(alice, "down")).state).toBe("created");
      expect((await releases.list(stopped.id)).map((r) => r.number)).toEqual([1]);
      expect(await fs.readdir(join(paths.codeDir(stopped.id), "releases"))).toEqual(["1"]);
      expect(await readlink(join(paths.codeDir(stopped.id), "current"))).toBe(pointer);
      expect(await ledger.usage("alice")).toMatchObject({ running: 1, memoryMb: 256 });

      // bob's quota is his own.
      await create(bob, "bobs", false);
      await expect(updater.update(bob, "bobs", { code: code("v2") })).resolves.toMatchObject({ release: 2 });
      expect((await manager.status(bob, "bobs")).state).toBe("running");
    });

    it("refuses to roll a stopped container back past it", async () => {
      const target = await create(alice, "down", true);
      await updater.update(alice, "down", { code: code("v2") });
      await manager.stop(alice, "down");
      await create(alice, "up", true);

      await expect(updater.rollback(alice, "down", undefined)).rejects.toMatchObject({
        code: "QUOTA_EXCEEDED",
        details: { quota: "running" },
      });
      expect((await manager.status(alice, "down")).state).toBe("stopped");
      expect((await releases.get(target.id, 2))?.status).toBe("active");
      expect(await readlink(join(paths.codeDir(target.id), "current"))).toBe("releases/2");
    });

    it("counts an updated container once, and lets an update within the quota start it", async () => {
      await create(alice, "a", false);
      await create(alice, "b", false);
      await expect(updater.update(alice, "a", { code: code("v2") })).resolves.toMatchObject({ release: 2 });
      expect((await manager.status(alice, "a")).state).toBe("running");
      expect(await ledger.usage("alice")).toMatchObject({ running: 1, memoryMb: 256, cpus: 1 });
      // One that already runs asks for nothing more.
      await expect(updater.update(alice, "a", { code: code("v3") })).resolves.toMatchObject({ release: 3 });
      await expect(updater.update(alice, "b", { code: code("v2") })).rejects.toMatchObject({
        code: "QUOTA_EXCEEDED",
      });
      await manager.stop(alice, "a");
      await expect(updater.update(alice, "b", { code: code("v2") })).resolves.toMatchObject({ release: 2 });
      expect(await ledger.usage("alice")).toMatchObject({ running: 1, memoryMb: 256 });
    });

    it("is held until `updating` is written, not through the readiness wait and health check", async () => {
      await create(alice, "app", false);
      const asked = Promise.withResolvers<void>();
      const answer = Promise.withResolvers<unknown>();
      healthAnswer = () => {
        asked.resolve();
        return answer.promise;
      };
      const updating = updater.update(alice, "app", {
        code: code("v2"),
        healthCheck: { request: { health: true } },
      });
      await asked.promise;
      // In the health check: the store counts the container as running, and the owner's lock is free for
      // another server's checks.
      expect((await manager.status(alice, "app")).state).toBe("updating");
      expect(await ledger.usage("alice")).toMatchObject({ running: 1 });
      expect(ownerLocks.holderOf("alice")).toBeUndefined();
      await create(alice, "other", false);
      await expect(manager.start(alice, "other")).rejects.toMatchObject({ code: "QUOTA_EXCEEDED" });
      answer.resolve({ ok: true });
      await expect(updating).resolves.toMatchObject({ release: 2 });
    });

    it("does not let twenty stopped containers be updated into running past it", async () => {
      for (let i = 0; i < 20; i++) await create(alice, `c${i}`, false);
      const answers = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => updater.update(alice, `c${i}`, { code: code("v2") })),
      );
      expect(answers.filter((a) => a.status === "fulfilled")).toHaveLength(1);
      const running = (
        await Promise.all(Array.from({ length: 20 }, (_, i) => manager.status(alice, `c${i}`)))
      ).filter((c) => c.state === "running");
      expect(running).toHaveLength(1);
      expect((await ledger.usage("alice")).running).toBe(1);
    });
  });

  describe("the code quota, when a release's directory cannot be removed", () => {
    const healthCheck = { request: { health: true }, expect: { ok: true } };
    const bytesOf = async (id: string) => (await releases.list(id)).reduce((sum, r) => sum + r.bytes, 0);

    it("keeps counting a failed release whose directory stays on disk, and removes it at the next prune", async () => {
      const c = await create(alice, "app", true);
      healthAnswer = async () => ({ ok: false });
      const failed = () => updater.update(alice, "app", { code: code("bad"), healthCheck });
      await expect(failed()).rejects.toMatchObject({ code: "UPDATE_ROLLED_BACK" });
      unremovable.add(paths.releaseDir(c.id, 2));
      // Three releases, two kept: the oldest failed one (2) is pruned, but its directory will not go.
      await expect(failed()).rejects.toMatchObject({ code: "UPDATE_ROLLED_BACK" });
      expect(await fs.readdir(join(paths.codeDir(c.id), "releases"))).toContain("2");
      expect((await releases.get(c.id, 2))?.status).toBe("failed");
      expect((await ledger.usage("alice")).codeBytes).toBe(await bytesOf(c.id));

      unremovable.clear();
      await expect(failed()).rejects.toMatchObject({ code: "UPDATE_ROLLED_BACK" });
      expect((await releases.list(c.id)).map((r) => r.number)).toEqual([4, 1]);
      expect((await fs.readdir(join(paths.codeDir(c.id), "releases"))).sort()).toEqual(["1", "4"]);
      expect((await ledger.usage("alice")).codeBytes).toBe(await bytesOf(c.id));
    });

    it("keeps counting an old release whose directory stays on disk after a good update", async () => {
      const c = await create(alice, "app", true);
      await updater.update(alice, "app", { code: code("v2") });
      unremovable.add(paths.releaseDir(c.id, 1));
      await updater.update(alice, "app", { code: code("v3") });
      expect((await releases.list(c.id)).map((r) => r.number)).toEqual([3, 2, 1]);
      expect((await ledger.usage("alice")).codeBytes).toBe(await bytesOf(c.id));
      unremovable.clear();
      await updater.update(alice, "app", { code: code("v4") });
      expect((await releases.list(c.id)).map((r) => r.number)).toEqual([4, 3]);
      expect((await fs.readdir(join(paths.codeDir(c.id), "releases"))).sort()).toEqual(["3", "4"]);
    });
  });

  describe("what a failed gate says about the workload's error", () => {
    it("sanitises it, then redacts it with the owner's secrets: no escape, and no secret split by one", async () => {
      const secret = "canary-s3cr3t-51d7e0";
      await manager.create(
        alice,
        ContainerSpec.parse({ name: "app", code: code("v1"), secretEnv: { KEY: secret }, waitReady: false }),
      );
      // An error whose message quotes what the workload answered.
      const split = `${secret.slice(0, 5)}\x1b[0m${secret.slice(5)}`;
      healthAnswer = () =>
        Promise.reject(new BerthError("WORKLOAD_ERROR", `health failed: ${split} \x1b]0;pwned\x07\x9b2J`));
      const failed = await updater
        .update(alice, "app", { code: code("v2"), healthCheck: { request: { health: true } } })
        .catch((err: unknown) => err);
      expect(failed).toMatchObject({ code: "UPDATE_ROLLED_BACK", details: { cause: "health_error" } });
      const { message } = failed as BerthError;
      expect(message).toContain("its health check failed: health failed: [REDACTED]");
      expect(message).not.toContain("s3cr3t");
      const controls = [...message].filter((c) => {
        const code = c.charCodeAt(0);
        return code < 0x20 || (code >= 0x7f && code <= 0x9f);
      });
      expect(controls).toEqual([]);
    });
  });

  describe("recovery after a crash (berth killed half-way)", () => {
    /** What a berth started just now finds: everything so far is the crash's. */
    const afterCrash = async () => CutByCrash.of(await manager.all(), Date.now() + 1);
    let told: InterruptedOperation[];
    let recover: (cut: CutByCrash) => Promise<void>;
    beforeEach(() => {
      told = [];
      const interrupted = new InterruptedOperations();
      interrupted.on("interrupted", (i) => told.push(i));
      recover = (cut) =>
        recoverUpdates(
          { lifecycle: manager.steps, releases, files: new LocalWorkloadFiles(paths), log, interrupted },
          cut,
        );
    });
    const pending = (containerId: string, number: number, createdAt = Date.now()) =>
      releases.insert({
        containerId,
        number,
        status: "pending",
        createdAt,
        createdBy: "alice",
        bytes: 1,
        files: 1,
        hash: "x",
      });

    it("leaves a release an update committed after the list was read active, and tells only of the crash's", async () => {
      const x = await create(alice, "x", true);
      await pending(x.id, 2); // cut by the crash while it wrote its release
      const y = await create(bob, "y", true);
      await updater.update(bob, "y", { code: code("v2") });
      await releases.setStatus(y.id, 2, "pending"); // read so by the recovery, as an update under way then
      const cut = await afterCrash();
      // …which commits while the recovery works on `x` (whose row it reads first).
      const findById = manager.steps.findById.bind(manager.steps);
      let committed = false;
      vi.spyOn(manager.steps, "findById").mockImplementation(async (id) => {
        if (id === x.id && !committed) {
          committed = true;
          await releases.setStatus(y.id, 2, "active");
        }
        return findById(id);
      });
      await recover(cut);
      expect(committed).toBe(true);
      expect((await releases.get(y.id, 2))?.status).toBe("active");
      expect((await releases.get(x.id, 2))?.status).toBe("failed");
      expect(told).toMatchObject([{ id: x.id, op: "update", outcome: "undone" }]);
    });

    it("marks failed without a word a pending release this berth's own failed clean-up left", async () => {
      const { id } = await create(alice, "app", true);
      const cut = CutByCrash.of(await manager.all(), Date.now() - 1);
      await pending(id, 2, Date.now()); // made by this berth, after its start
      await recover(cut);
      expect((await releases.get(id, 2))?.status).toBe("failed");
      expect(told).toEqual([]);
    });

    it("undoes a rollback cut after its switch — updating, with no pending release — and says so", async () => {
      const { id } = await create(alice, "app", true);
      await updater.update(alice, "app", { code: code("v2") });
      // What a rollback to release 1 leaves when berth dies after the switch: the pointer on 1, the
      // store still on 2, the container `updating`. Nothing is pending: recovery used to look no further.
      await switchRelease(paths.codeDir(id), 1);
      await manager.steps.reach(await current(id), "updating", "switching to release 1");
      await recover(await afterCrash());
      expect(await readlink(join(paths.codeDir(id), "current"))).toBe("releases/2");
      expect(await current(id)).toMatchObject({ state: "running", release: 2 });
      expect(told).toMatchObject([{ id, op: "update", outcome: "undone", state: "running", release: 2 }]);
    });

    it("undoes an update cut while it wrote its release, and marks that release failed", async () => {
      const { id } = await create(alice, "app", true);
      await releases.insert({
        containerId: id,
        number: 2,
        status: "pending",
        createdAt: Date.now(),
        createdBy: "alice",
        bytes: 1,
        files: 1,
        hash: "x",
      });
      // …its staging directory half-written, as writeReleaseEntries names it.
      const staging = join(paths.codeDir(id), "releases", "2.staging-4242-0123456789ab");
      await fs.mkdir(staging, { recursive: true });
      await fs.writeFile(join(staging, "index.js"), "half");
      await recover(await afterCrash());
      expect(await fs.readdir(join(paths.codeDir(id), "releases"))).toEqual(["1"]);
      expect((await releases.get(id, 2))?.status).toBe("failed");
      expect(await current(id)).toMatchObject({ state: "running", release: 1 });
      expect(told).toMatchObject([{ id, op: "update", outcome: "undone", release: 1 }]);
    });
  });
});
