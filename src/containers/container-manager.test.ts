import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/helpers/deadline.ts";
import { unpackRelease } from "../code/unpack-release.ts";
import { loadConfig } from "../config/config.ts";
import { prepareDataDir } from "../config/data-dir.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { DockerError, NoCapacityError, NotFoundError } from "../errors/errors.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EgressFirewall } from "../network/egress-firewall.ts";
import { egressPolicy } from "../network/egress-policy.ts";
import { FakeIptables } from "../network/testing/fake-iptables.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import type { ContainerRecord, ContainerStore, Store } from "../store/store-ports.ts";
import { ContainerPaths } from "../workload-files/container-paths.ts";
import { LocalWorkloadFiles } from "../workload-files/local-workload-files.ts";
import { ContainerManager, type StatusChange } from "./container-manager.ts";
import { ContainerSpec } from "./container-spec.ts";
import { LATE_OOM_FLAG_WAIT_MS } from "./engine-sync.ts";
import { FakeWorkloadChannel } from "./testing/fake-workload-channel.ts";
import { UidClaims } from "./uid-claims.ts";

const alice = { owner: "alice", admin: false };

/** Waits (asking again at once, never on a fixed sleep) until the fake engine has been asked to wait for an exit. */
const askedToWaitForExit = (docker: FakeDockerClient) =>
  eventually(
    10_000,
    "the engine asked to wait for the exit",
    () => docker.calls.some((c) => c.method === "waitForExit"),
    0,
  );
const spec = (extra: Record<string, unknown> = {}) =>
  ContainerSpec.parse({ name: "bot", code: { files: { "index.js": "x" } }, ...extra });

describe("ContainerManager (with a fake engine)", () => {
  let dataDir: string;
  let docker: FakeDockerClient;
  let channel: FakeWorkloadChannel;
  let repo: ContainerStore;
  let manager: ContainerManager;
  let options: ConstructorParameters<typeof ContainerManager>[0];
  let iptables: FakeIptables;
  let close: () => Promise<void>;
  let store: Store;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cm-"));
    const config = loadConfig({
      BERTH_DATA_DIR: dataDir,
      // Long enough that an answer before it cannot be the timeout, whatever the machine's load.
      BERTH_READY_TIMEOUT_MS: "30000",
      BERTH_ALLOW_NETWORK: "true",
    });
    prepareDataDir(config.dataDir, config.runDir);
    store = openSqliteStore(join(dataDir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
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
    iptables = new FakeIptables();
    options = {
      config,
      docker,
      repo,
      releases: store.releases,
      channel,
      secrets,
      log,
      instanceId: "test",
      files: new LocalWorkloadFiles(new ContainerPaths(config.dataDir, config.runDir)),
      egress: new EgressFirewall({ iptables, policy: egressPolicy([], []), instanceId: "test", log }),
    };
    manager = new ContainerManager(options);
  });
  afterEach(async () => {
    await close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function expectNothingLeft(): Promise<void> {
    expect(await repo.all()).toEqual([]);
    expect(docker.containers.size).toBe(0);
    expect(await readdir(join(dataDir, "code"))).toEqual([]);
    expect(await readdir(join(dataDir, "run"))).toEqual([]);
    expect(channel.open_.size).toBe(0);
  }

  it.each(["createContainer", "startContainer"] as const)(
    "removes everything it made when %s fails, and rethrows the original error",
    async (method) => {
      const injected = new DockerError("injected failure", 500);
      docker.failNext(method, injected);
      await expect(manager.create(alice, spec())).rejects.toBe(injected);
      await expectNothingLeft();
    },
  );

  it("places a new workload (cluster mode) after its row is stored and before its files and container are made", async () => {
    const seen: Array<{
      id: string;
      rowStored: boolean;
      files: string[];
      engineCalls: number;
      resources: unknown;
    }> = [];
    manager = new ContainerManager({
      ...options,
      placement: {
        place: async (id, resources) => {
          seen.push({
            id,
            rowStored: (await repo.get(id)) !== undefined,
            files: await readdir(join(dataDir, "code")),
            engineCalls: docker.calls.filter((c) => c.method === "createContainer").length,
            resources,
          });
          return { generation: 3 };
        },
        placeAgain: async () => undefined,
        putBack: async () => undefined,
      },
    });
    const created = await manager.create(alice, spec({ resources: { memoryMb: 64 } }));
    expect(seen).toEqual([
      { id: created.id, rowStored: true, files: [], engineCalls: 0, resources: { memoryMb: 64 } },
    ]);
    // Its engine container carries the placement's generation: the node's agent learns it from the create.
    const made = docker.calls.find((c) => c.method === "createContainer")?.arg as {
      Labels: Record<string, string>;
    };
    expect(made.Labels["berth.generation"]).toBe("3");
  });

  it("labels no generation in single-host mode", async () => {
    await manager.create(alice, spec());
    const made = docker.calls.find((c) => c.method === "createContainer")?.arg as {
      Labels: Record<string, string>;
    };
    expect(made.Labels).not.toHaveProperty("berth.generation");
  });

  it("keeps a release's contents in the store (cluster mode), named by the release's row, to give a node it moves to", async () => {
    manager = new ContainerManager({ ...options, releaseContents: store.releaseContents });
    const created = await manager.create(alice, spec());
    const [release] = await store.releases.list(created.id);
    expect(release?.contentDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const packed = await store.releaseContents.get(release!.contentDigest!);
    const entries = unpackRelease(packed!, { maxBytes: 1024 * 1024, maxFiles: 100 });
    expect(entries.map((e) => [e.path, e.kind === "file" ? e.content.toString() : e.kind])).toEqual([
      ["index.js", "x"],
    ]);
  });

  it("keeps no release contents in single-host mode: its releases live on its one disk", async () => {
    const created = await manager.create(alice, spec());
    const [release] = await store.releases.list(created.id);
    expect(release?.contentDigest ?? null).toBeNull();
  });

  it("undoes a create whose placement fails (no node has room), and rethrows the placement's error", async () => {
    const refused = new NoCapacityError({ details: { readyNodes: 2, matchingNodes: 2 } });
    manager = new ContainerManager({
      ...options,
      placement: {
        place: () => Promise.reject(refused),
        placeAgain: async () => undefined,
        putBack: async () => undefined,
      },
    });
    await expect(manager.create(alice, spec())).rejects.toBe(refused);
    await expectNothingLeft();
  });

  it("filters an outbound container's bridge before the container starts, and unfilters it with the network", async () => {
    const run = iptables.run.bind(iptables);
    let engineCallsWhenHooked = -1;
    iptables.run = (args) => {
      if (args[0] === "-I") engineCallsWhenHooked = docker.calls.length;
      return run(args);
    };
    const created = await manager.create(alice, spec({ network: "outbound" }));
    const engineCalls = docker.calls.map((c) => c.method);
    expect(engineCalls.indexOf("createContainer")).toBeGreaterThanOrEqual(engineCallsWhenHooked);
    expect(engineCalls.indexOf("ensureNetwork")).toBeLessThan(engineCallsWhenHooked);
    expect(iptables.chains.get("DOCKER-USER")).toHaveLength(2);
    expect(iptables.chains.get("INPUT")).toHaveLength(1);
    await manager.delete(alice, created.id);
    expect(docker.networks.size).toBe(0);
    expect(iptables.dump()).toEqual(["DOCKER-USER: -j RETURN"]);
  });

  it("refuses an outbound container when the egress filter cannot be installed (fail closed), and leaves nothing behind", async () => {
    iptables.broken = "spawn iptables ENOENT";
    await expect(manager.create(alice, spec({ network: "outbound" }))).rejects.toMatchObject({
      code: "EGRESS_FILTER_UNAVAILABLE",
    });
    expect(docker.calls.some((c) => c.method === "createContainer")).toBe(false);
    await expectNothingLeft();
    // Containers without network do not need the filter.
    await expect(manager.create(alice, spec())).resolves.toMatchObject({ state: "running" });
  });

  it("answers NOT_READY with the exit code as soon as the workload exits, and keeps the container", async () => {
    channel.autoHello = false;
    const started = Date.now();
    const creating = manager.create(alice, spec());
    await askedToWaitForExit(docker);
    const [dockerId] = docker.containers.keys();
    docker.exit(dockerId!, 3);
    await expect(creating).rejects.toMatchObject({
      code: "NOT_READY",
      details: { cause: "exited", exitCode: 3 },
    });
    expect(Date.now() - started).toBeLessThan(15_000); // well before the 30 s ready timeout
    const [record] = await repo.all();
    expect(record).toMatchObject({ state: "exited", exitCode: 3 });
  });

  it("answers NOT_READY bad_hello at once when the handshake is refused", async () => {
    channel.autoHello = false;
    const creating = manager.create(alice, spec());
    await askedToWaitForExit(docker);
    channel.badHello((await repo.all())[0]!.id, "wrong protocol version");
    await expect(creating).rejects.toMatchObject({ code: "NOT_READY", details: { cause: "bad_hello" } });
    expect((await repo.all())[0]?.state).toBe("running");
  });

  it("answers NOT_READY bad_hello at once when the handshake was refused before the wait for it began", async () => {
    channel.autoHello = false;
    // A workload quick to start (or an engine slow to answer the start): refused before berth listens.
    const start = docker.startContainer.bind(docker);
    docker.startContainer = async (dockerId) => {
      const started = await start(dockerId);
      channel.badHello((await repo.all())[0]!.id, "wrong protocol version");
      return started;
    };
    const started = Date.now();
    await expect(manager.create(alice, spec())).rejects.toMatchObject({
      code: "NOT_READY",
      details: { cause: "bad_hello" },
    });
    expect(Date.now() - started).toBeLessThan(15_000); // well before the 30 s ready timeout
  });

  it("gives parallel creates different uids even from a range of two (a uid being stored is not chosen again)", async () => {
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_UID_RANGE: "5000-5001" });
    const narrow = new ContainerManager({ ...options, config });
    // Eight rounds: were a uid chosen while another create stores it free to choose, each pair had
    // an even chance of choosing the same one.
    for (let round = 0; round < 8; round++) {
      const pair = await Promise.all([
        narrow.create(alice, spec({ name: "a" })),
        narrow.create(alice, spec({ name: "b" })),
      ]);
      expect(new Set((await repo.all()).map((r) => r.uid))).toEqual(new Set([5000, 5001]));
      for (const c of pair) await narrow.delete(alice, c.id);
    }
  });

  it("never gives a container a uid that an image check holds, even when it is the only one left", async () => {
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_UID_RANGE: "5000-5001" });
    const uids = new UidClaims(repo, config.uidRange, options.log);
    const both = [await uids.claim(), await uids.claim()];
    both.find((c) => c.uid === 5001)?.release(); // an image check holds 5000
    const held = new ContainerManager({ ...options, config, uids });
    for (let round = 0; round < 4; round++) {
      const c = await held.create(alice, spec({ name: `c${round}` }));
      expect((await repo.get(c.id))?.uid).toBe(5001);
      await held.delete(alice, c.id);
    }
  });

  it("answers NOT_READY never_connected when the workload never connects", async () => {
    channel.autoHello = false;
    // A ready timeout of its own: the others are long, so that an answer before them cannot be the timeout.
    const config = loadConfig({
      BERTH_DATA_DIR: dataDir,
      BERTH_READY_TIMEOUT_MS: "300",
      BERTH_ALLOW_NETWORK: "true",
    });
    manager = new ContainerManager({ ...options, config });
    await expect(manager.create(alice, spec())).rejects.toMatchObject({
      code: "NOT_READY",
      details: { cause: "never_connected" },
    });
  });

  it("refuses a second container of the same name with its id, and allows the name to another owner", async () => {
    const first = await manager.create(alice, spec());
    await expect(manager.create(alice, spec())).rejects.toMatchObject({
      code: "NAME_CONFLICT",
      details: { id: first.id },
    });
    const bobs = await manager.create({ owner: "bob", admin: false }, spec());
    expect(bobs.id).not.toBe(first.id);
  });

  it("answers NAME_CONFLICT to the second of two creates of one name made at once, and leaves nothing of it", async () => {
    const [a, b] = await Promise.allSettled([manager.create(alice, spec()), manager.create(alice, spec())]);
    const won = [a, b].find((r) => r.status === "fulfilled");
    const lost = [a, b].find((r) => r.status === "rejected");
    expect(won?.value.name).toBe("bot");
    expect(lost?.reason).toMatchObject({ code: "NAME_CONFLICT", details: { id: won?.value.id } });
    expect((await repo.all()).map((r) => r.id)).toEqual([won?.value.id]);
    expect(docker.containers.size).toBe(1);
  });

  it("chooses another uid when the one it chose is taken before its row is stored (another berth's create)", async () => {
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_UID_RANGE: "5000-5001" });
    let taken: number | undefined;
    // The store answers "free", then another writer stores a row with that uid before this insert lands.
    const racing = new Proxy(repo, {
      get(target, prop) {
        if (prop === "insert" && taken === undefined) {
          return async (record: ContainerRecord) => {
            taken = record.uid;
            await target.insert({ ...record, id: "C0000000OTHER", owner: "bob", dockerName: "other" });
            return target.insert(record);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const created = await new ContainerManager({ ...options, config, repo: racing }).create(alice, spec());
    expect(taken).toBeDefined();
    expect((await repo.get(created.id))?.uid).toBe(taken === 5000 ? 5001 : 5000);
  });

  it("deletes idempotently, and still cleans up when the engine container is already gone", async () => {
    const info = await manager.create(alice, spec());
    docker.containers.clear(); // vanished behind berth's back
    expect(await manager.delete(alice, info.id)).toEqual({ id: info.id, deleted: true });
    expect(await manager.delete(alice, info.id)).toEqual({ deleted: false });
    await expectNothingLeft();
  });

  it("reports a container that the engine is removing behind berth's back as missing, and deletes it", async () => {
    const info = await manager.create(alice, spec());
    const [dockerId] = docker.containers.keys();
    // `docker rm -f`: the die event's inspect can land while the engine still says "removing".
    docker.containers.get(dockerId!)!.state = "removing";
    await manager.syncFromEngine(info.id, "the process exited");
    docker.containers.delete(dockerId!);
    await manager.syncFromEngine(info.id, "engine container removed");
    expect((await repo.get(info.id))?.state).toBe("missing");
    await expect(manager.start(alice, info.id)).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await manager.delete(alice, info.id)).toEqual({ id: info.id, deleted: true });
    await expectNothingLeft();
  });

  it("keeps the row (state removing) when the engine is down during delete, so it can finish later", async () => {
    const info = await manager.create(alice, spec());
    docker.down = true;
    await expect(manager.delete(alice, info.id)).rejects.toMatchObject({ code: "DOCKER_UNAVAILABLE" });
    expect((await repo.get(info.id))?.state).toBe("removing");
    docker.down = false;
    await manager.removeEverything((await repo.get(info.id))!, "retried");
    await expectNothingLeft();
  });

  it("does not let the restart policy's start undo a stop its owner asked for before that start's turn", async () => {
    const info = await manager.create(alice, spec());
    const [dockerId] = docker.containers.keys();
    docker.exit(dockerId!, 1);
    await manager.syncFromEngine(info.id, "the process exited");
    expect((await repo.get(info.id))?.state).toBe("exited");
    // The owner's stop is queued before the automatic start that was decided on the exit.
    const stopping = manager.stop(alice, info.id);
    const restarting = manager.start({ owner: "alice", admin: true }, info.id, {
      waitReady: false,
      restart: true,
    });
    await stopping;
    await expect(restarting).resolves.toMatchObject({ state: "stopped" });
    expect(await repo.get(info.id)).toMatchObject({ state: "stopped", restartCount: 0 });
    expect(docker.containers.get(dockerId!)?.state).not.toBe("running");
    // An exited one is started, and counted.
    await manager.start(alice, info.id);
    docker.exit(dockerId!, 1);
    await manager.syncFromEngine(info.id, "the process exited");
    await manager.start({ owner: "alice", admin: true }, info.id, { waitReady: false, restart: true });
    expect(await repo.get(info.id)).toMatchObject({ state: "running", restartCount: 1 });
  });

  it("gives the engine a moment to flag an exit by SIGKILL as an OOM kill, and pushes it as one", async () => {
    const info = await manager.create(alice, spec());
    const [dockerId] = docker.containers.keys();
    const pushed: StatusChange[] = [];
    manager.on("statusChanged", (c) => pushed.push(c));
    // The engine's OOM notice comes after the exit, as containerd sometimes delivers it.
    docker.exit(dockerId!, 137);
    setTimeout(() => {
      docker.containers.get(dockerId!)!.oomKilled = true;
    }, 100);
    await manager.syncFromEngine(info.id, "the process exited with code 137");
    expect(pushed).toMatchObject([
      { from: "running", info: { state: "exited", exitCode: 137 }, oomKilled: true },
    ]);
  });

  it("records an exit by SIGKILL that the engine never flags as a plain exit, once the moment has passed", async () => {
    const info = await manager.create(alice, spec());
    const [dockerId] = docker.containers.keys();
    const pushed: StatusChange[] = [];
    manager.on("statusChanged", (c) => pushed.push(c));
    docker.exit(dockerId!, 137);
    const started = performance.now();
    await manager.syncFromEngine(info.id, "the process exited with code 137");
    expect(performance.now() - started).toBeGreaterThanOrEqual(LATE_OOM_FLAG_WAIT_MS - 10);
    expect(pushed).toMatchObject([
      { from: "running", info: { state: "exited", exitCode: 137 }, oomKilled: false },
    ]);
    // An exit found later (berth was down) is not waited for again: it is recorded as it is.
    pushed.length = 0;
    const calls = docker.calls.length;
    await manager.syncFromEngine(info.id, "resync");
    expect(docker.calls.slice(calls).filter((c) => c.method === "inspectContainer")).toHaveLength(1);
  });

  it("keeps the restart policy's due restart in the store until a start, a stop or a delete answers the exit", async () => {
    const info = await manager.create(alice, spec());
    const [dockerId] = docker.containers.keys();
    docker.exit(dockerId!, 1);
    await manager.syncFromEngine(info.id, "the process exited");
    await manager.setRestartDue(info.id, { at: 123, attempts: 2 });
    expect(await repo.get(info.id)).toMatchObject({ restartDueAt: 123, restartAttempts: 2 });
    await manager.stop(alice, info.id);
    expect(await repo.get(info.id)).toMatchObject({
      state: "stopped",
      restartDueAt: null,
      restartAttempts: 2,
    });
  });

  it("records no restart as due once a start answered the exit, however late the policy's decision is written", async () => {
    const info = await manager.create(alice, spec());
    const [dockerId] = docker.containers.keys();
    docker.exit(dockerId!, 1);
    await manager.syncFromEngine(info.id, "the process exited");
    const decided = manager.setRestartDue(info.id, { at: 123, attempts: 1 });
    await manager.start(alice, info.id, { waitReady: false });
    const late = manager.setRestartDue(info.id, { at: 456, attempts: 2 });
    await Promise.all([decided, late]);
    expect(await repo.get(info.id)).toMatchObject({ state: "running", restartDueAt: null });
  });

  it("records no restart as due when the owner's stop is written while the policy's decision is on its way", async () => {
    const info = await manager.create(alice, spec());
    const [dockerId] = docker.containers.keys();
    docker.exit(dockerId!, 1);
    await manager.syncFromEngine(info.id, "the process exited");
    // The stop's state write (in the container's turn, which the decision's write is not in)
    // lands while the write is under way: after any read it makes, before its own write.
    let stopWritten = false;
    const stop = async () => {
      if (stopWritten) return;
      stopWritten = true;
      await repo.update(info.id, { state: "stopped", restartDueAt: null });
    };
    const racing = new Proxy(repo, {
      get(target, prop) {
        if (prop === "get")
          return async (id: string) => {
            const record = await target.get(id);
            const asRead = record && { ...record };
            await stop();
            return asRead;
          };
        if (prop === "setRestartDue")
          return async (id: string, due: { at: number | null; attempts?: number }) => {
            await stop();
            return target.setRestartDue(id, due);
          };
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await new ContainerManager({ ...options, repo: racing }).setRestartDue(info.id, { at: 0, attempts: 1 });
    expect(stopWritten).toBe(true);
    expect(await repo.get(info.id)).toMatchObject({ state: "stopped", restartDueAt: null });
  });

  it("serialises operations on one container", async () => {
    const info = await manager.create(alice, spec());
    const order: string[] = [];
    manager.on("statusChanged", (c) => order.push(c.info.state));
    await Promise.all([
      manager.stop(alice, info.id),
      manager.start(alice, info.id),
      manager.restart(alice, info.id),
    ]);
    expect(order).toEqual(["stopping", "stopped", "starting", "running", "restarting", "running"]);
  });

  it("at shutdown waits for an operation still reading the store, then refuses its turn SHUTTING_DOWN, and refuses new ones at once", async () => {
    const info = await manager.create(alice, spec());
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let reads = 0;
    // The store's answer to the stop's lookup is held, as a slow database would hold it.
    const slowRepo = new Proxy(repo, {
      get(target, key) {
        if (key === "get") {
          return async (id: string) => {
            reads++;
            await held;
            return target.get(id);
          };
        }
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const shuttingDown = new ContainerManager({ ...options, repo: slowRepo });
    const order: string[] = [];
    const stop = shuttingDown.stop(alice, info.id).then(
      () => order.push("stopped"),
      (err: unknown) => order.push((err as { code: string }).code),
    );
    await eventually(10_000, "the stop asked the store", () => reads === 1, 0);
    const drained = shuttingDown.drain().then(() => order.push("drained"));
    await expect(shuttingDown.start(alice, info.id)).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
    release();
    await Promise.all([stop, drained]);
    expect(order).toEqual(["SHUTTING_DOWN", "drained"]);
    expect(docker.calls.some((c) => c.method === "stopContainer")).toBe(false);
    expect(await repo.get(info.id)).toMatchObject({ state: "running" });
  });

  it("writes release 1 and never writes outside the code directory", async () => {
    const info = await manager.create(alice, spec({ code: { files: { "index.js": "1", "lib/a.js": "2" } } }));
    expect(existsSync(join(dataDir, "code", info.id, "releases", "1", "lib", "a.js"))).toBe(true);
    expect(existsSync(join(dataDir, "code", info.id, "current", "index.js"))).toBe(true);
  });

  it("answers IMAGE_NOT_FOUND, with nothing made, for an image the engine lacks — also when it goes between the check and the create", async () => {
    docker.images = new Map();
    await expect(manager.create(alice, spec())).rejects.toMatchObject({
      code: "IMAGE_NOT_FOUND",
      details: { image: "berth/runtime-node:24" },
    });
    expect(docker.calls.some((c) => c.method === "createContainer")).toBe(false);
    docker.images = undefined;
    docker.failNext("createContainer", new NotFoundError("engine object"));
    await expect(manager.create(alice, spec())).rejects.toMatchObject({ code: "IMAGE_NOT_FOUND" });
    expect(await repo.all()).toEqual([]);
    expect(await readdir(join(dataDir, "code"))).toEqual([]);
  });

  it("refuses code without the file the image's default command runs, unless the spec has a command", async () => {
    docker.images = new Map([
      ["berth/runtime-node:24", { entrypoint: [], cmd: ["node", "/app/main.js"], labels: {} }],
    ]);
    await expect(manager.create(alice, spec())).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { field: "code", missing: "main.js" },
    });
    const info = await manager.create(alice, spec({ command: ["node", "/app/index.js"], start: false }));
    expect(info.state).toBe("created");
  });

  describe("runtimes", () => {
    const NODE = "berth/runtime-node:24";
    const PYTHON = "berth/runtime-python:3.11";
    const labelled = (runtime: string, entry: string, command: string[]) => ({
      entrypoint: [],
      cmd: command,
      labels: {
        "berth.runtime": runtime,
        "berth.entry": entry,
        "berth.command": JSON.stringify(command),
        "berth.protocol": "1",
      },
    });
    beforeEach(() => {
      docker.images = new Map([
        [NODE, labelled("node", "index.js", ["node", "index.js"])],
        [PYTHON, labelled("python", "main.py", ["python3", "main.py"])],
      ]);
    });
    const py = (extra: Record<string, unknown> = {}) =>
      spec({ runtime: "python", code: { files: { "main.py": "print(1)" } }, start: false, ...extra });
    const bodyOf = (id: string) =>
      docker.calls.find(
        (c) =>
          c.method === "createContainer" &&
          (c.arg as { Labels: Record<string, string> }).Labels["berth.id"] === id,
      )?.arg as { Image: string; WorkingDir: string; Cmd?: string[] };

    it("runs the runtime's image, in the code's current release, and shows the runtime", async () => {
      const info = await manager.create(alice, py());
      expect(info).toMatchObject({ image: PYTHON, runtime: "python" });
      expect(bodyOf(info.id)).toMatchObject({ Image: PYTHON, WorkingDir: "/run/berth-code/current" });
      expect(bodyOf(info.id).Cmd).toBeUndefined(); // the image's own CMD, which its berth.command label repeats
      expect((await repo.get(info.id))?.spec.runtime).toBe("python");
      expect((await manager.status(alice, info.id)).runtime).toBe("python");
    });

    it("runs node when the spec names neither runtime nor image; a container without code works in /", async () => {
      const info = await manager.create(alice, spec({ start: false }));
      expect(info).toMatchObject({ image: NODE, runtime: "node" });
      const bare = await manager.create(alice, ContainerSpec.parse({ name: "bare", start: false }));
      expect(bodyOf(bare.id).WorkingDir).toBe("/");
    });

    it("refuses python code without main.py, naming the file and the runtime", async () => {
      const err = await manager.create(alice, py({ code: { files: { "app.py": "" } } })).catch((e) => e);
      expect(err).toMatchObject({
        code: "VALIDATION_FAILED",
        details: { field: "code", missing: "main.py", runtime: "python" },
      });
      expect(err.message).toContain("The code has no 'main.py', which the python runtime's image");
      expect(err.message).toContain("(python3 main.py)");
      expect(await repo.all()).toEqual([]);
    });

    it("checks an update's code for the entry file of the container's runtime", async () => {
      const info = await manager.create(alice, py());
      const record = await repo.get(info.id);
      if (!record) throw new Error("the created container has no row");
      const file = (path: string) => ({
        path,
        kind: "file" as const,
        content: Buffer.from("x"),
        mode: 0o644 as const,
      });
      await expect(manager.steps.checkEntryFile(record, [file("main.py")])).resolves.toBeUndefined();
      await expect(manager.steps.checkEntryFile(record, [file("index.js")])).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
        details: { field: "code", missing: "main.py", runtime: "python" },
      });
    });

    it("accepts a runtime with an image labelled for it, and refuses one labelled for another, naming both", async () => {
      const custom = "acme/py:1";
      const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_ALLOWED_IMAGES: `${custom},acme/plain:1` });
      manager = new ContainerManager({ ...options, config });
      docker.images?.set(custom, labelled("python", "bot.py", ["python3", "bot.py"]));
      docker.images?.set("acme/plain:1", { entrypoint: [], cmd: ["/bin/app"], labels: {} });
      const ok = await manager.create(alice, py({ image: custom, code: { files: { "bot.py": "" } } }));
      expect(ok).toMatchObject({ image: custom, runtime: "python" });

      const wrong = await manager
        .create(alice, spec({ name: "w", runtime: "node", image: custom }))
        .catch((e) => e);
      expect(wrong).toMatchObject({
        code: "VALIDATION_FAILED",
        details: { field: "runtime", runtime: "node", image: custom, imageRuntime: "python" },
      });
      expect(wrong.message).toContain("The runtime 'node' and the image 'acme/py:1' disagree");
      const unlabelled = await manager
        .create(alice, spec({ name: "u", runtime: "python", image: "acme/plain:1" }))
        .catch((e) => e);
      expect(unlabelled).toMatchObject({
        code: "VALIDATION_FAILED",
        details: { runtime: "python", image: "acme/plain:1", imageRuntime: null },
      });
      expect(unlabelled.message).toContain("has no berth.runtime label");
      // Alone, an unlabelled custom image runs as it is, with no runtime to show.
      const plain = await manager.create(alice, spec({ name: "p", image: "acme/plain:1", start: false }));
      expect(plain.runtime).toBeUndefined();
      expect((await repo.get(plain.id))?.spec.runtime).toBeUndefined();
    });

    it("refuses an image whose SDK speaks another channel protocol, with nothing made", async () => {
      const node = labelled("node", "index.js", ["node", "index.js"]);
      docker.images?.set(NODE, { ...node, labels: { ...node.labels, "berth.protocol": "2" } });
      const err = await manager.create(alice, spec()).catch((e) => e);
      expect(err).toMatchObject({
        code: "IMAGE_INCOMPATIBLE",
        details: { image: NODE, protocol: 2, supported: [1] },
      });
      expect(docker.calls.some((c) => c.method === "createContainer")).toBe(false);
      expect(await repo.all()).toEqual([]);
    });

    it("takes an image with malformed labels as one without them, and still checks the old /app command", async () => {
      docker.images?.set(NODE, {
        entrypoint: [],
        cmd: ["node", "/app/index.js"],
        labels: {
          "berth.runtime": "ruby",
          "berth.entry": "../etc/passwd",
          "berth.command": "[",
          "berth.protocol": "x",
        },
      });
      const info = await manager.create(alice, spec({ start: false }));
      expect(info).toMatchObject({ image: NODE, runtime: "node" });
      await expect(
        manager.create(alice, spec({ name: "b", code: { files: { "a.js": "" } } })),
      ).rejects.toMatchObject({
        details: { missing: "index.js" },
      });
    });
  });
});
