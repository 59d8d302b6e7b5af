import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { buildCreateBody } from "../src/containers/container-config.ts";
import { startInProcessBerth } from "./in-process-berth.ts";
import { printTable } from "./stats.ts";

/**
 * Lifecycle: create+start until running, and stop+delete, through berth (a
 * real socket.io-client → berth → engine) beside the same operations made
 * directly through dockerode with the same image, the same hardened settings
 * and the same mounts. Rounds alternate berth and direct so both see the same noise.
 */
const ROUNDS = 20;

export async function run(): Promise<void> {
  const {
    berth,
    config,
    ack,
    echo: code,
    close,
  } = await startInProcessBerth({ BERTH_STOP_TIMEOUT_SEC: "10" });
  const docker = new Dockerode({ socketPath: config.dockerSocket });
  const directDir = await mkdtemp(join(tmpdir(), "bd-"));

  const berthCreate: number[] = [];
  const berthRemove: number[] = [];
  const directCreate: number[] = [];
  const directRemove: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      let t = performance.now();
      const info = await ack("container:create", {
        name: `bench-${round}`,
        code: { files: { "index.js": code } },
        waitReady: false,
      });
      berthCreate.push(performance.now() - t);
      t = performance.now();
      await ack("container:stop", { id: info.id });
      await ack("container:delete", { id: info.id });
      berthRemove.push(performance.now() - t);

      const id = `D${String(round).padStart(11, "0")}`;
      const base = join(directDir, id);
      await mkdir(join(base, "run"), { recursive: true });
      await mkdir(join(base, "code", "releases", "1"), { recursive: true });
      await writeFile(join(base, "code", "releases", "1", "index.js"), code);
      await symlink("releases/1", join(base, "code", "current"));
      t = performance.now();
      const body = buildCreateBody({
        id,
        owner: "bench",
        instanceId: `direct-${berth.instanceId}`,
        uid: 299_000 + round,
        spec: { name: `direct-${round}` },
        image: config.defaultImage,
        socketDir: join(base, "run"),
        codeDir: join(base, "code"),
        hasCode: true,
        networkName: undefined,
        config,
      });
      const container = await docker.createContainer(body);
      await container.start();
      directCreate.push(performance.now() - t);
      t = performance.now();
      await container.stop({ t: 10 });
      await container.remove({ force: true, v: true });
      directRemove.push(performance.now() - t);
      await rm(base, { recursive: true, force: true });
    }
  } finally {
    const instance = berth.instanceId;
    await close();
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`berth.instance=direct-${instance}`] },
    });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await rm(directDir, { recursive: true, force: true });
  }
  printTable(`lifecycle: ${ROUNDS} rounds, berth vs direct dockerode`, "ms", [
    { what: "create + start until running", berth: berthCreate, baseline: directCreate },
    { what: "stop + delete", berth: berthRemove, baseline: directRemove },
  ]);
}
