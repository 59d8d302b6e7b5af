import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import Dockerode from "dockerode";
import { io } from "socket.io-client";
import { Berth } from "../src/berth.ts";
import { loadConfig } from "../src/config/config.ts";
import { buildCreateBody } from "../src/containers/container-config.ts";
import { printTable } from "./stats.ts";

/**
 * Lifecycle: create+start until running, and stop+delete, through berth (a
 * real socket.io-client → berth → engine) beside the same operations made
 * directly through dockerode with the same image, the same hardened settings
 * and the same mounts. Rounds alternate berth and direct so both see the same noise.
 */
const ROUNDS = 20;

export async function run(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "bb-"));
  const config = loadConfig({
    BERTH_DATA_DIR: dataDir,
    BERTH_PORT: "0",
    BERTH_LOG_LEVEL: "warn",
    BERTH_TOKENS: "bench:bench-token-0123456789",
    BERTH_STOP_TIMEOUT_SEC: "10",
  });
  const berth = new Berth(config, { logDestination: new PassThrough().resume() });
  const port = await berth.start();
  const client = io(`http://127.0.0.1:${port}`, {
    auth: { token: "bench-token-0123456789" },
    transports: ["websocket"],
  });
  await new Promise<void>((r) => client.once("connect", () => r()));
  const docker = new Dockerode({ socketPath: config.dockerSocket });
  const code = await readFile(new URL("../test/fixtures/workloads/echo.js", import.meta.url), "utf8");
  const ack = async (event: string, payload: unknown) => {
    const res = await client.timeout(60_000).emitWithAck(event, payload);
    if (!res.ok) throw new Error(`${event}: ${JSON.stringify(res.error)}`);
    return res.data;
  };

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
      const base = join(dataDir, "direct", id);
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
    client.disconnect();
    await berth.close();
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`berth.instance=direct-${berth.instanceId}`] },
    });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await rm(dataDir, { recursive: true, force: true });
  }
  printTable(`lifecycle: ${ROUNDS} rounds, berth vs direct dockerode`, "ms", [
    { what: "create + start until running", berth: berthCreate, baseline: directCreate },
    { what: "stop + delete", berth: berthRemove, baseline: directRemove },
  ]);
}
