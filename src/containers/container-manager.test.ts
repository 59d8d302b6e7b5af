import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/config.ts";
import { prepareDataDir } from "../config/data-dir.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { DockerError, NotFoundError } from "../errors/errors.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EgressFirewall } from "../network/egress-firewall.ts";
import { egressPolicy } from "../network/egress-policy.ts";
import { FakeIptables } from "../network/testing/fake-iptables.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { ContainerRepository } from "../store/container-repository.ts";
import { openDatabase } from "../store/database.ts";
import { ReleaseRepository } from "../store/release-repository.ts";
import { ContainerManager } from "./container-manager.ts";
import { ContainerPaths } from "./container-paths.ts";
import { ContainerSpec } from "./container-spec.ts";
import { FakeWorkloadChannel } from "./testing/fake-workload-channel.ts";

const alice = { owner: "alice", admin: false };

/** Waits (on the event loop, never on a fixed sleep) until the fake engine has been asked for something. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}
const spec = (extra: Record<string, unknown> = {}) =>
  ContainerSpec.parse({ name: "bot", code: { files: { "index.js": "x" } }, ...extra });

describe("ContainerManager (with a fake engine)", () => {
  let dataDir: string;
  let docker: FakeDockerClient;
  let channel: FakeWorkloadChannel;
  let repo: ContainerRepository;
  let manager: ContainerManager;
  let options: ConstructorParameters<typeof ContainerManager>[0];
  let iptables: FakeIptables;
  let close: () => void;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cm-"));
    const config = loadConfig({
      BERTH_DATA_DIR: dataDir,
      BERTH_READY_TIMEOUT_MS: "300",
      BERTH_ALLOW_NETWORK: "true",
    });
    prepareDataDir(config.dataDir, config.runDir);
    const db = openDatabase(join(dataDir, "berth.db"));
    close = () => db.close();
    repo = new ContainerRepository(db, new SecretCipher(KeyRing.ephemeral()));
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
      releases: new ReleaseRepository(db),
      channel,
      secrets,
      log,
      instanceId: "test",
      paths: new ContainerPaths(config.dataDir, config.runDir),
      egress: new EgressFirewall({ iptables, policy: egressPolicy([], []), instanceId: "test", log }),
    };
    manager = new ContainerManager(options);
  });
  afterEach(async () => {
    close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function expectNothingLeft(): Promise<void> {
    expect(repo.all()).toEqual([]);
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
    await until(() => docker.calls.some((c) => c.method === "waitForExit"));
    const [dockerId] = docker.containers.keys();
    docker.exit(dockerId!, 3);
    await expect(creating).rejects.toMatchObject({
      code: "NOT_READY",
      details: { cause: "exited", exitCode: 3 },
    });
    expect(Date.now() - started).toBeLessThan(250); // well before the 300 ms ready timeout
    const [record] = repo.all();
    expect(record).toMatchObject({ state: "exited", exitCode: 3 });
  });

  it("answers NOT_READY bad_hello at once when the handshake is refused", async () => {
    channel.autoHello = false;
    const creating = manager.create(alice, spec());
    await until(() => docker.calls.some((c) => c.method === "waitForExit"));
    channel.badHello(repo.all()[0]!.id, "wrong protocol version");
    await expect(creating).rejects.toMatchObject({ code: "NOT_READY", details: { cause: "bad_hello" } });
    expect(repo.all()[0]?.state).toBe("running");
  });

  it("answers NOT_READY bad_hello at once when the handshake was refused before the wait for it began", async () => {
    channel.autoHello = false;
    // A workload quick to start (or an engine slow to answer the start): refused before berth listens.
    const start = docker.startContainer.bind(docker);
    docker.startContainer = async (dockerId) => {
      const started = await start(dockerId);
      channel.badHello(repo.all()[0]!.id, "wrong protocol version");
      return started;
    };
    const started = Date.now();
    await expect(manager.create(alice, spec())).rejects.toMatchObject({
      code: "NOT_READY",
      details: { cause: "bad_hello" },
    });
    expect(Date.now() - started).toBeLessThan(250); // well before the 300 ms ready timeout
  });

  it("gives parallel creates different uids even from a range of two (chosen and stored with no await between)", async () => {
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_UID_RANGE: "5000-5001" });
    const narrow = new ContainerManager({ ...options, config });
    // Eight rounds: with the uid chosen before the awaits that precede storing it, each pair had
    // an even chance of choosing the same one.
    for (let round = 0; round < 8; round++) {
      const pair = await Promise.all([
        narrow.create(alice, spec({ name: "a" })),
        narrow.create(alice, spec({ name: "b" })),
      ]);
      expect(new Set(repo.all().map((r) => r.uid))).toEqual(new Set([5000, 5001]));
      for (const c of pair) await narrow.delete(alice, c.id);
    }
  });

  it("never gives a container a uid that an image check holds, even when it is the only one left", async () => {
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_UID_RANGE: "5000-5001" });
    const held = new ContainerManager({ ...options, config, uidsInUse: (uid) => uid === 5000 });
    for (let round = 0; round < 4; round++) {
      const c = await held.create(alice, spec({ name: `c${round}` }));
      expect(repo.get(c.id)?.uid).toBe(5001);
      await held.delete(alice, c.id);
    }
  });

  it("answers NOT_READY never_connected when the workload never connects", async () => {
    channel.autoHello = false;
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
    expect(repo.get(info.id)?.state).toBe("missing");
    await expect(manager.start(alice, info.id)).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await manager.delete(alice, info.id)).toEqual({ id: info.id, deleted: true });
    await expectNothingLeft();
  });

  it("keeps the row (state removing) when the engine is down during delete, so it can finish later", async () => {
    const info = await manager.create(alice, spec());
    docker.down = true;
    await expect(manager.delete(alice, info.id)).rejects.toMatchObject({ code: "DOCKER_UNAVAILABLE" });
    expect(repo.get(info.id)?.state).toBe("removing");
    docker.down = false;
    await manager.removeEverything(repo.get(info.id)!, "retried");
    await expectNothingLeft();
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
    expect(repo.all()).toEqual([]);
    expect(await readdir(join(dataDir, "code"))).toEqual([]);
  });

  it("refuses code without the file the image's default command runs, unless the spec has a command", async () => {
    docker.images = new Map([["berth/runtime-node:24", { entrypoint: [], cmd: ["node", "/app/main.js"] }]]);
    await expect(manager.create(alice, spec())).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { field: "code", missing: "main.js" },
    });
    const info = await manager.create(alice, spec({ command: ["node", "/app/index.js"], start: false }));
    expect(info.state).toBe("created");
  });
});
