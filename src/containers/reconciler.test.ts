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
import { ContainerRepository } from "../store/container-repository.ts";
import { openDatabase } from "../store/database.ts";
import { ReleaseRepository } from "../store/release-repository.ts";
import { ContainerManager } from "./container-manager.ts";
import { ContainerPaths } from "./container-paths.ts";
import { ContainerSpec } from "./container-spec.ts";
import type { InterruptedOperation } from "./interrupted-operation.ts";
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
  let repo: ContainerRepository;
  let manager: ContainerManager;
  let paths: ContainerPaths;
  let told: InterruptedOperation[];
  let run: () => ReturnType<typeof reconcile>;
  let close: () => void;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "rc-"));
    const config = loadConfig({ BERTH_DATA_DIR: dataDir });
    prepareDataDir(config.dataDir, config.runDir);
    const db = openDatabase(join(dataDir, "berth.db"));
    close = () => db.close();
    repo = new ContainerRepository(db, new SecretCipher(KeyRing.ephemeral()));
    docker = new FakeDockerClient();
    const channel = new FakeWorkloadChannel();
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
      releases: new ReleaseRepository(db),
      channel,
      secrets,
      log,
      instanceId: "test",
      paths,
      egress: { protect: async () => {}, release: async () => {}, sweep: async () => {} },
    });
    told = [];
    manager.on("interrupted", (i) => told.push(i));
    run = () => reconcile({ docker, repo, manager, channel, paths, instanceId: "test", log });
  });
  afterEach(async () => {
    close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const running = async (name = "bot") => {
    const made = await manager.create(
      alice,
      ContainerSpec.parse({ name, code: { files: { "index.js": "x" } }, waitReady: false }),
    );
    return repo.get(made.id)!;
  };
  const engineState = (dockerId: string | null) => docker.containers.get(dockerId ?? "")?.state;

  it("undoes a create whose engine container was made but whose row never learnt it, engine container and all", async () => {
    const { id, dockerId } = await running();
    repo.update(id, { dockerId: null }); // as a crash between the engine's create (or start) and the row's update leaves it
    await run();
    expect(repo.get(id)).toBeUndefined();
    expect(docker.containers.has(dockerId!)).toBe(false);
    expect(told).toEqual([{ owner: "alice", id, name: "bot", op: "create", outcome: "undone" }]);
  });

  it("finishes a delete and says so", async () => {
    const { id, dockerId } = await running();
    repo.update(id, { state: "removing" });
    await run();
    expect(repo.get(id)).toBeUndefined();
    expect(docker.containers.has(dockerId!)).toBe(false);
    expect(told).toMatchObject([{ id, op: "delete", outcome: "finished" }]);
  });

  it("finishes a stop whose workload still runs", async () => {
    const { id, dockerId } = await running();
    repo.update(id, { state: "stopping" });
    await run();
    expect(repo.get(id)?.state).toBe("stopped");
    expect(engineState(dockerId)).toBe("exited");
    expect(told).toMatchObject([{ id, op: "stop", outcome: "finished", state: "stopped" }]);
  });

  it("finishes a restart cut after its stop: running again, counted, and not told as an unexpected exit", async () => {
    const { id, dockerId } = await running();
    await docker.stopContainer(dockerId!, 1);
    repo.update(id, { state: "restarting" });
    const states: string[] = [];
    manager.on("statusChanged", (c) => states.push(c.info.state));
    await run();
    expect(repo.get(id)).toMatchObject({ state: "running", restartCount: 1 });
    expect(engineState(dockerId)).toBe("running");
    expect(states).toEqual(["running"]);
    expect(told).toMatchObject([{ id, op: "restart", outcome: "finished", state: "running" }]);
  });

  it("finishes a start the engine never made", async () => {
    const { id, dockerId } = await running();
    await docker.stopContainer(dockerId!, 1);
    repo.update(id, { state: "starting" });
    await run();
    expect(repo.get(id)?.state).toBe("running");
    expect(engineState(dockerId)).toBe("running");
    expect(told).toMatchObject([{ id, op: "start", outcome: "finished" }]);
  });

  it("tells nothing about containers no operation was cutting", async () => {
    const { id } = await running();
    await run();
    expect(repo.get(id)?.state).toBe("running");
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
    const { id, dockerId } = repo.get(made.id)!;
    // The exit was recorded; the restart waited for its back-off when berth died.
    docker.exit(dockerId!, 1);
    await manager.syncFromEngine(id, "exited");
    expect(repo.get(id)?.state).toBe("exited");
    // What the killed berth's RestartSupervisor kept when it decided on the restart.
    manager.setRestartDue(id, { at: Date.now(), attempts: 1 });
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
      restarts.resume();
      await vi.waitFor(() => expect(repo.get(id)).toMatchObject({ state: "running", restartCount: 1 }));
    } finally {
      restarts.close();
    }
  });
});
