import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import { loadConfig } from "../config/config.ts";
import { prepareDataDir } from "../config/data-dir.ts";
import { ContainerManager } from "../containers/container-manager.ts";
import { ContainerSpec } from "../containers/container-spec.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { DockerError } from "../errors/errors.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EgressFirewall } from "../network/egress-firewall.ts";
import { egressPolicy } from "../network/egress-policy.ts";
import { FakeIptables } from "../network/testing/fake-iptables.ts";
import { KeyRing } from "../secrets/key-ring.ts";
import { SecretCipher } from "../secrets/secret-cipher.ts";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import { ContainerPaths } from "../workload-files/container-paths.ts";
import { LocalWorkloadFiles } from "../workload-files/local-workload-files.ts";
import { BerthMetrics } from "./berth-metrics.ts";

const alice = { owner: "alice", admin: false };
const spec = (name: string) =>
  ContainerSpec.parse({ name, code: { files: { "index.js": "x" } }, waitReady: false });

/**
 * The per-container channel series (BERTH_METRICS_PER_CONTAINER=true) end with
 * the container's record, whichever way it ends: the manager, on a fake engine,
 * with the real channel hub and the real metrics.
 */
describe("per-container channel series", () => {
  let dataDir: string;
  let docker: FakeDockerClient;
  let hub: SocketCommunicationHandler;
  let metrics: BerthMetrics;
  let manager: ContainerManager;
  let closeDb: () => Promise<void>;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "pcs-"));
    const config = loadConfig({ BERTH_DATA_DIR: dataDir, BERTH_READY_TIMEOUT_MS: "300" });
    prepareDataDir(config.dataDir, config.runDir);
    const store = openSqliteStore(join(dataDir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
    closeDb = () => store.close();
    const secrets = new SecretRegistry();
    const log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    metrics = new BerthMetrics({
      perContainer: true,
      version: "0.0.0",
      sources: {
        containers: async () => [],
        connectedClients: () => 0,
        connectedWorkloads: () => 0,
        listeners: () => 0,
      },
    });
    hub = new SocketCommunicationHandler({
      runDir: config.runDir,
      maxFrameBytes: 64 * 1024,
      maxRequestTimeoutMs: 30_000,
      log,
      observer: metrics.channel,
    });
    docker = new FakeDockerClient();
    manager = new ContainerManager({
      config,
      docker,
      repo: store.containers,
      releases: store.releases,
      channel: hub,
      secrets,
      log,
      instanceId: "test",
      files: new LocalWorkloadFiles(new ContainerPaths(config.dataDir, config.runDir)),
      egress: new EgressFirewall({
        iptables: new FakeIptables(),
        policy: egressPolicy([], []),
        instanceId: "test",
        log,
      }),
    });
  });
  afterEach(async () => {
    await hub.closeAll();
    await closeDb();
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each(["createContainer", "startContainer"] as const)(
    "leaves none behind a create undone because the engine's %s failed",
    async (method) => {
      for (let i = 0; i < 3; i++) {
        docker.failNext(method, new DockerError("injected failure", 500));
        await expect(manager.create(alice, spec(`bot-${i}`))).rejects.toThrow("injected failure");
      }
      expect(await metrics.scrape()).not.toContain("container=");
    },
  );

  it("has a series while the container exists, and none once it is deleted", async () => {
    const info = await manager.create(alice, spec("bot"));
    expect(await metrics.scrape()).toContain(`container="${info.id}"`);
    await manager.delete(alice, info.id);
    expect(await metrics.scrape()).not.toContain("container=");
  });
});
