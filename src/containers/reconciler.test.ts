import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../config/config.ts";
import { prepareDataDir } from "../config/data-dir.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { ContainerStore } from "../store/store-ports.ts";
import { ContainerPaths } from "../workload-files/container-paths.ts";
import { LocalWorkloadFiles } from "../workload-files/local-workload-files.ts";
import { ContainerManager } from "./container-manager.ts";
import { ContainerSpec } from "./container-spec.ts";
import { CutByCrash } from "./cut-by-crash.ts";
import { type InterruptedOperation, InterruptedOperations } from "./interrupted-operation.ts";
import { reconcile } from "./reconciler.ts";
import { RestartSupervisor } from "./restart-supervisor.ts";
import { FakeWorkloadChannel } from "./testing/fake-workload-channel.ts";

const alice = { owner: "alice", admin: false };

/**
 * What a berth started again finds after a crash (SIGKILL) cut an operation
 * half-way — the row as the operation had left it — and what it must make of
 * it: finished or undone, and said (the `interrupted` event the feed tells).
 */
describe("reconcile after a crash", () => {
  let dataDir: string;
  let docker: FakeDockerClient;
  let channel: FakeWorkloadChannel;
  let repo: ContainerStore;
  let manager: ContainerManager;
  let paths: ContainerPaths;
  let told: InterruptedOperation[];
  let run: () => ReturnType<typeof reconcile>;
  /** Cluster mode's route for an orphan's leftovers, when a test sets one. */
  let orphanLeftovers: ((id: string, dockerId: string) => Promise<void>) | undefined;
  /** What this berth found at its start; taken at the first reconciliation unless a test took it earlier. */
  let cut: CutByCrash | undefined;
  let close: () => Promise<void>;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "rc-"));
    const config = loadConfig({ BERTH_DATA_DIR: dataDir });
    prepareDataDir(config.dataDir, config.runDir);
    const store = openSqliteStore(join(dataDir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
    close = () => store.close();
    repo = store.containers;
    docker = new FakeDockerClient();
    channel = new FakeWorkloadChannel();
    const secrets = new SecretRegistry();
    const log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    paths = new ContainerPaths(config.dataDir, config.runDir);
    manager = new ContainerManager({
      config,
      docker,
      repo,
      releases: store.releases,
      channel,
      secrets,
      log,
      instanceId: "test",
      files: new LocalWorkloadFiles(paths),
      egress: { protect: async () => {}, release: async () => {}, mark: () => 0, sweep: async () => {} },
    });
    told = [];
    const interrupted = new InterruptedOperations();
    interrupted.on("interrupted", (i) => told.push(i));
    cut = undefined;
    orphanLeftovers = undefined;
    run = async () => {
      cut ??= CutByCrash.of(await repo.all());
      return reconcile({
        docker,
        repo,
        manager,
        channel,
        files: new LocalWorkloadFiles(paths),
        instanceId: "test",
        log,
        cut,
        interrupted,
        ...(orphanLeftovers ? { orphanLeftovers } : {}),
      });
    };
  });
  afterEach(async () => {
    await close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const running = async (name = "bot") => {
    const made = await manager.create(
      alice,
      ContainerSpec.parse({ name, code: { files: { "index.js": "x" } }, waitReady: false }),
    );
    return (await repo.get(made.id))!;
  };
  const engineState = (dockerId: string | null) => docker.containers.get(dockerId ?? "")?.state;

  it("undoes a create whose engine container was made but whose row never learnt it, engine container and all", async () => {
    const { id, dockerId } = await running();
    await repo.update(id, { dockerId: null }); // as a crash between the engine's create (or start) and the row's update leaves it
    await run();
    expect(await repo.get(id)).toBeUndefined();
    expect(docker.containers.has(dockerId!)).toBe(false);
    expect(told).toEqual([{ owner: "alice", id, name: "bot", op: "create", outcome: "undone" }]);
  });

  it("leaves an image check's throwaway under way to its check, and removes one past its time as an orphan", async () => {
    const throwaway = (id: string, until: number) =>
      docker.createContainer({
        name: `berth-${id}`,
        Image: "acme/bot:1",
        Labels: {
          "berth.managed": "true",
          "berth.instance": "test",
          "berth.id": id,
          "berth.check": "image",
          "berth.check-until": String(until),
        },
      });
    const underWay = await throwaway("C0000000000A", Date.now() + 60_000);
    const leftOver = await throwaway("C0000000000B", Date.now() - 1);
    const report = await run();
    expect(docker.containers.has(underWay)).toBe(true);
    expect(docker.containers.has(leftOver)).toBe(false);
    expect(report.orphansRemoved).toBe(1);
  });

  it("removes an orphan's leftovers by its engine handle where a route is given (cluster mode: the node's agent)", async () => {
    const id = "C0000000000C";
    const dockerId = await docker.createContainer({
      name: `berth-${id}`,
      Image: "acme/bot:1",
      Labels: { "berth.managed": "true", "berth.instance": "test", "berth.id": id },
    });
    const routed: Array<[string, string]> = [];
    orphanLeftovers = async (orphan, handle) => {
      routed.push([orphan, handle]);
    };
    await run();
    expect(docker.containers.has(dockerId)).toBe(false);
    expect(routed).toEqual([[id, dockerId]]);
  });

  it("finishes a delete and says so", async () => {
    const { id, dockerId } = await running();
    await repo.update(id, { state: "removing" });
    await run();
    expect(await repo.get(id)).toBeUndefined();
    expect(docker.containers.has(dockerId!)).toBe(false);
    expect(told).toMatchObject([{ id, op: "delete", outcome: "finished" }]);
  });

  it("finishes a stop whose workload still runs", async () => {
    const { id, dockerId } = await running();
    await repo.update(id, { state: "stopping" });
    await run();
    expect((await repo.get(id))?.state).toBe("stopped");
    expect(engineState(dockerId)).toBe("exited");
    expect(told).toMatchObject([{ id, op: "stop", outcome: "finished", state: "stopped" }]);
  });

  it("finishes a restart cut after its stop: running again, counted, and not told as an unexpected exit", async () => {
    const { id, dockerId } = await running();
    await docker.stopContainer(dockerId!, 1);
    await repo.update(id, { state: "restarting" });
    const states: string[] = [];
    manager.on("statusChanged", (c) => states.push(c.info.state));
    await run();
    expect(await repo.get(id)).toMatchObject({ state: "running", restartCount: 1 });
    expect(engineState(dockerId)).toBe("running");
    expect(states).toEqual(["running"]);
    expect(told).toMatchObject([{ id, op: "restart", outcome: "finished", state: "running" }]);
  });

  it("finishes a start the engine never made", async () => {
    const { id, dockerId } = await running();
    await docker.stopContainer(dockerId!, 1);
    await repo.update(id, { state: "starting" });
    await run();
    expect((await repo.get(id))?.state).toBe("running");
    expect(engineState(dockerId)).toBe("running");
    expect(told).toMatchObject([{ id, op: "start", outcome: "finished" }]);
  });

  it("tells nothing about containers no operation was cutting", async () => {
    const { id } = await running();
    await run();
    expect((await repo.get(id))?.state).toBe("running");
    expect(told).toEqual([]);
  });

  it("starts again a crashed workload whose policy restart was due when berth was killed", async () => {
    const made = await manager.create(
      alice,
      ContainerSpec.parse({
        name: "crashy",
        code: { files: { "index.js": "x" } },
        waitReady: false,
        restartPolicy: "on-failure",
      }),
    );
    const { id, dockerId } = (await repo.get(made.id))!;
    // The exit was recorded; the restart waited for its back-off when berth died.
    docker.exit(dockerId!, 1);
    await manager.syncFromEngine(id, "exited");
    expect((await repo.get(id))?.state).toBe("exited");
    // What the killed berth's RestartSupervisor kept when it decided on the restart.
    await manager.setRestartDue(id, { at: Date.now(), attempts: 1 });
    await run();
    const log = createSystemLogger({
      level: "silent",
      redactor: new SecretRegistry().system,
      destination: new PassThrough(),
    });
    const restarts = new RestartSupervisor(
      manager,
      { maxRestarts: 3, resetAfterMs: 60_000, baseDelayMs: 1, maxDelayMs: 1 },
      log,
    );
    try {
      await restarts.resume();
      // vi.waitFor's own 1 s is short for a loaded machine.
      await vi.waitFor(
        async () => expect(await repo.get(id)).toMatchObject({ state: "running", restartCount: 1 }),
        { timeout: 10_000 },
      );
    } finally {
      restarts.close();
    }
  });

  describe("at the engine's return, while owners are at work", () => {
    it("leaves alone a create of this berth whose row has no engine id yet", async () => {
      cut = CutByCrash.of(await repo.all()); // this berth started before the create
      const { id, dockerId } = await running();
      await repo.update(id, { dockerId: null }); // as the create leaves it until its engine container has started
      await run();
      expect(await repo.get(id)).toBeDefined();
      expect(docker.containers.has(dockerId!)).toBe(true);
      expect(told).toEqual([]);
    });

    it("does not mark missing a container whose engine copy was made after the list was read (a move, a slow node)", async () => {
      const { id, dockerId } = await running();
      // The list comes back without it (read before the copy the row names now was made)…
      const list = docker.listContainers.bind(docker);
      docker.listContainers = async (labels) => (await list(labels)).filter((c) => c.dockerId !== dockerId);
      await run();
      // …but the engine has it: not vanished.
      expect((await repo.get(id))?.state).toBe("running");
      docker.containers.delete(dockerId!);
      await run();
      expect((await repo.get(id))?.state).toBe("missing");
    });

    it("does not stop again a container the owner started after the list was read", async () => {
      const a = await running("a");
      const b = await running("b");
      await repo.update(a.id, { state: "stopping" });
      await repo.update(b.id, { state: "stopping" });
      // While `a` is being stopped, `b` is started by its owner: the copy of `b` read earlier is out of date.
      const stop = docker.stopContainer.bind(docker);
      docker.stopContainer = async (dockerId, timeoutSec) => {
        await stop(dockerId, timeoutSec);
        if (dockerId === a.dockerId) await repo.update(b.id, { state: "running" });
      };
      await run();
      expect((await repo.get(b.id))?.state).toBe("running");
      expect(engineState(b.dockerId)).toBe("running");
      expect(told).toMatchObject([{ id: a.id, op: "stop" }]);
    });

    it("does not open again the channel of a container deleted after the list was read (on another server)", async () => {
      const { id } = await running();
      await channel.close(id); // as at berth's start: a channel is open once a reconciliation opened it
      cut = CutByCrash.of(await repo.all());
      const all = repo.all.bind(repo);
      repo.all = async () => {
        const rows = await all();
        // Deleted before this row's turn comes: its channel closed, its row gone (another server's delete).
        await channel.close(id);
        await repo.delete(id);
        return rows;
      };
      await run();
      expect(channel.open_.has(id)).toBe(false);
    });

    it("opens the channel of a container whose state moved on after the list was read (started again)", async () => {
      const { id, dockerId } = await running();
      await channel.close(id);
      docker.exit(dockerId!, 0);
      await repo.update(id, { state: "exited", exitCode: 0 });
      cut = CutByCrash.of(await repo.all());
      const all = repo.all.bind(repo);
      repo.all = async () => {
        const rows = await all();
        // Started again before this row's turn comes (the engine's return brings it back).
        await repo.update(id, { state: "running", exitCode: null });
        return rows;
      };
      await run();
      expect(channel.open_.has(id)).toBe(true);
    });

    it("finishes a delete once, and says so once, when two reconciliations overlap", async () => {
      const { id } = await running();
      await repo.update(id, { state: "removing" });
      cut = CutByCrash.of(await repo.all());
      await Promise.all([run(), run()]);
      expect(await repo.get(id)).toBeUndefined();
      expect(told).toMatchObject([{ id, op: "delete", outcome: "finished" }]);
    });

    it("restarts a restart cut by the crash once, though the engine returns again", async () => {
      const { id, dockerId } = await running();
      await docker.stopContainer(dockerId!, 1);
      await repo.update(id, { state: "restarting" });
      cut = CutByCrash.of(await repo.all());
      await Promise.all([run(), run()]);
      await run();
      expect(await repo.get(id)).toMatchObject({ state: "running", restartCount: 1 });
      expect(told).toHaveLength(1);
    });
  });

  it("tells a create whose undo a second crash cut as a create undone, not as a delete", async () => {
    const { id, dockerId } = await running();
    // The first restart's undo had set `removing`; the row never learnt its engine id.
    await repo.update(id, { dockerId: null, state: "removing" });
    await run();
    expect(await repo.get(id)).toBeUndefined();
    expect(docker.containers.has(dockerId!)).toBe(false);
    expect(told).toEqual([{ owner: "alice", id, name: "bot", op: "create", outcome: "undone" }]);
  });
});
