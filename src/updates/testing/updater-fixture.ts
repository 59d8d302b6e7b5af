import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { ContainerState, ReleaseStatus } from "#protocol";
import { switchRelease } from "../../code/release-pointer.ts";
import { loadConfig } from "../../config/config.ts";
import { newContainerId } from "../../containers/container-id.ts";
import { ContainerSpec, toStoredSpec } from "../../containers/container-spec.ts";
import { FakeLifecycleSteps } from "../../containers/testing/fake-lifecycle-steps.ts";
import { SecretRegistry } from "../../logging/secret-registry.ts";
import { createSystemLogger, type SystemLogger } from "../../logging/system-logger.ts";
import { KeyRing } from "../../secrets/key-ring.ts";
import { SecretCipher } from "../../secrets/secret-cipher.ts";
import { openSqliteStore } from "../../store/sqlite/sqlite-store.ts";
import type { ContainerRecord, Store } from "../../store/store-ports.ts";
import { ContainerPaths } from "../../workload-files/container-paths.ts";
import { LocalWorkloadFiles } from "../../workload-files/local-workload-files.ts";

/**
 * What a unit test of the updater's steps stands on: the real SQLite store on
 * a temporary file, real code directories, and a FakeLifecycleSteps in place
 * of the lifecycle. `close()` removes it all.
 */
export interface UpdaterFixture {
  store: Store;
  paths: ContainerPaths;
  /** The files port over `paths`, as single-host berth builds it. */
  files: LocalWorkloadFiles;
  lifecycle: FakeLifecycleSteps;
  log: SystemLogger;
  config: ReturnType<typeof loadConfig>;
  /** A container of alice's with releases 1..n on disk and in the store, the pointer on `active`. */
  container(options?: {
    state?: ContainerState;
    releases?: Array<{ number: number; status: ReleaseStatus }>;
    active?: number;
  }): Promise<ContainerRecord>;
  close(): Promise<void>;
}

let next = 0;

export async function updaterFixture(env: Record<string, string> = {}): Promise<UpdaterFixture> {
  const dataDir = await mkdtemp(join(tmpdir(), "berth-updater-"));
  const config = loadConfig({ BERTH_DATA_DIR: dataDir, ...env });
  const store = openSqliteStore(join(dataDir, "berth.db"), new SecretCipher(KeyRing.ephemeral()));
  const paths = new ContainerPaths(config.dataDir, config.runDir);
  const lifecycle = new FakeLifecycleSteps(store.containers, (id) => paths.codeDir(id));
  const log = createSystemLogger({
    level: "silent",
    redactor: new SecretRegistry().system,
    destination: new PassThrough(),
  });
  return {
    store,
    paths,
    files: new LocalWorkloadFiles(paths),
    lifecycle,
    log,
    config,
    async container(options = {}) {
      const releases = options.releases ?? [{ number: 1, status: "active" }];
      const active = options.active ?? releases.find((r) => r.status === "active")?.number ?? null;
      const id = newContainerId();
      next++;
      const record: ContainerRecord = {
        id,
        owner: "alice",
        name: `app-${next}`,
        image: "berth/runtime-node:24",
        spec: toStoredSpec(ContainerSpec.parse({ name: `app-${next}` })),
        dockerId: `docker-${id}`,
        dockerName: `berth-${id}`,
        state: options.state ?? "running",
        health: "none",
        uid: 100_000 + next,
        createdAt: Date.now(),
        startedAt: Date.now(),
        exitCode: null,
        release: active,
        restartCount: 0,
      };
      await store.containers.insert(record);
      for (const r of releases) {
        await mkdir(paths.releaseDir(id, r.number), { recursive: true });
        await writeFile(join(paths.releaseDir(id, r.number), "index.js"), `// release ${r.number}\n`);
        await store.releases.insert({
          containerId: id,
          number: r.number,
          status: r.status,
          createdAt: Date.now(),
          createdBy: "alice",
          bytes: 16,
          files: 1,
          hash: `h${r.number}`,
        });
      }
      if (active !== null) await switchRelease(paths.codeDir(id), active);
      return record;
    },
    async close() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
