import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/deadline.ts";
import { docker, echoCode, startTestServer, type TestServer } from "../helpers/test-server.ts";

/**
 * A berth that dies during an output hold leaves the container at the held CPU limit (the engine
 * keeps updated limits). The next berth gives every such container its own limit back at start-up,
 * running or stopped — here with the history off, so that no sample of the PressureMonitor could.
 */
describe("CPU limits an earlier berth held", () => {
  let dataDir: string;
  let keyDir: string;
  let server: TestServer | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "lh-"));
    keyDir = await mkdtemp(join(tmpdir(), "lk-"));
  });
  afterAll(async () => {
    await server?.close(); // removes the data directory and the instance's containers
    await rm(dataDir, { recursive: true, force: true });
    await rm(keyDir, { recursive: true, force: true });
  });

  it("are given back at the next start, to running and stopped containers, and a limit of its own is left alone", async () => {
    const env = {
      BERTH_DATA_DIR: dataDir,
      BERTH_SECRET_KEY_FILE: join(keyDir, "secret.key"),
      BERTH_STATS_HISTORY_INTERVAL_MS: "0",
    };
    server = await startTestServer(env);
    const alice = await server.connect("alice");
    const code = await echoCode();
    const running = await alice.containers.create({ name: "running", code, resources: { cpus: 0.5 } });
    const stopped = await alice.containers.create({ name: "stopped", code });
    const own = await alice.containers.create({ name: "own", code, resources: { cpus: 0.05 } });
    await stopped.stop();
    await server.stop(); // as a crash would: the containers keep running, the data directory stays
    // As the dead berth's holds left them, at either step.
    await docker.getContainer(`berth-${running.id}`).update({ NanoCpus: 5e7 });
    await docker.getContainer(`berth-${stopped.id}`).update({ NanoCpus: 1e7 });

    server = await startTestServer(env);
    const nanoCpus = async (id: string) =>
      (await docker.getContainer(`berth-${id}`).inspect()).HostConfig.NanoCpus;
    await eventually(10_000, "the held limits given back", async () => {
      const now = [await nanoCpus(running.id), await nanoCpus(stopped.id)];
      return (now[0] === 5e8 && now[1] === 1e9) || `NanoCpus ${now.join(", ")}`;
    });
    expect(await nanoCpus(own.id)).toBe(5e7);
    expect(server.logs()).toMatch(/gave back a CPU limit an earlier berth held/);
  });
});
