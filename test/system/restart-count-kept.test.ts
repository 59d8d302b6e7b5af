import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectClient } from "../../packages/client/src/index.ts";
import { type BerthProcess, secretKeyFileBeside, spawnBerth } from "../helpers/berth-process.ts";
import { eventually } from "../helpers/deadline.ts";
import { type Client, echoCode, removeInstance, TOKENS } from "../helpers/test-server.ts";

describe("restart count and history across a berth killed with SIGKILL", () => {
  let dataDir: string;
  let berth: BerthProcess | undefined;
  let env: Record<string, string>;
  const clients: Client[] = [];

  async function connect(): Promise<Client> {
    if (!berth) throw new Error("no berth");
    const client = await connectClient(berth.url, { token: TOKENS.alice, reconnect: false });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "rc-"));
    env = {
      BERTH_DATA_DIR: dataDir,
      BERTH_TOKENS: `alice:${TOKENS.alice}`,
      BERTH_STOP_TIMEOUT_SEC: "1",
      BERTH_STATS_HISTORY_INTERVAL_MS: "250",
    };
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await berth?.kill("SIGKILL");
    const instanceId = (await readFile(join(dataDir, "instance-id"), "utf8").catch(() => "")).trim();
    if (instanceId) await removeInstance(instanceId);
    await rm(dataDir, { recursive: true, force: true });
    await rm(secretKeyFileBeside(dataDir), { force: true });
  });

  it("keeps the count and the start time, and the next berth samples what still runs", async () => {
    berth = await spawnBerth(env);
    const alice = await connect();
    const bot = await alice.containers.create({ name: "kept-count", code: await echoCode() });
    const restarted = await bot.restart({ timeoutSec: 0 });
    expect(restarted.restartCount).toBe(1);

    await berth.kill("SIGKILL");
    berth = await spawnBerth(env);
    const again = await (await connect()).containers.get(bot.id);
    expect(again.info).toMatchObject({ state: "running", restartCount: 1, startedAt: restarted.startedAt });
    // The history is memory only: it starts afresh, with the container adopted as running.
    await eventually(10_000, "samples from the new berth", async () => {
      return (await again.statsHistory()).samples.length > 0;
    });
    await again.delete();
  });
});
