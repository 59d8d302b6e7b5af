import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import Dockerode from "dockerode";
import { io } from "socket.io-client";
import { Berth } from "../src/berth.ts";
import { loadConfig } from "../src/config/config.ts";
import { printTable } from "./stats.ts";

/**
 * Update: `container:update` until the new release is ready (its hello has
 * arrived), beside a plain `container:restart` until ready of the same
 * container, alternating, 20 rounds each, through a real Socket.IO client.
 * No health check, so both wait for the same thing: the workload's hello.
 */
const ROUNDS = 20;

export async function run(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "bu-"));
  const config = loadConfig({
    BERTH_DATA_DIR: dataDir,
    BERTH_PORT: "0",
    BERTH_LOG_LEVEL: "warn",
    BERTH_TOKENS: "bench:bench-token-0123456789",
  });
  const berth = new Berth(config, { logDestination: new PassThrough().resume() });
  const port = await berth.start();
  const client = io(`http://127.0.0.1:${port}`, {
    auth: { token: "bench-token-0123456789" },
    transports: ["websocket"],
  });
  await new Promise<void>((r) => client.once("connect", () => r()));
  const echo = await readFile(new URL("../test/fixtures/workloads/echo.js", import.meta.url), "utf8");
  const ack = async (event: string, payload: unknown) => {
    const res = await client.timeout(60_000).emitWithAck(event, payload);
    if (!res.ok) throw new Error(`${event}: ${JSON.stringify(res.error)}`);
    return res.data;
  };
  const update: number[] = [];
  const restart: number[] = [];
  try {
    const { id } = await ack("container:create", {
      name: "bench-update",
      code: { files: { "index.js": echo } },
    });
    for (let round = 0; round < ROUNDS + 2; round++) {
      let t = performance.now();
      await ack("container:update", {
        id,
        code: { files: { "index.js": `${echo}\n// release ${round}\n` } },
      });
      const u = performance.now() - t;
      t = performance.now();
      await ack("container:restart", { id });
      const r = performance.now() - t;
      if (round < 2) continue; // warm-up
      update.push(u);
      restart.push(r);
    }
  } finally {
    client.disconnect();
    const instance = berth.instanceId;
    await berth.close();
    const docker = new Dockerode({ socketPath: config.dockerSocket });
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`berth.instance=${instance}`] },
    });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await rm(dataDir, { recursive: true, force: true });
  }
  printTable(`update: ${ROUNDS} rounds, update until ready vs restart until ready (same container)`, "ms", [
    { what: "until ready", berth: update, baseline: restart },
  ]);
}
