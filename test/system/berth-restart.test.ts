import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectClient } from "../../packages/client/src/index.ts";
import { type BerthProcess, secretKeyFileBeside, spawnBerth } from "../helpers/berth-process.ts";
import { eventually } from "../helpers/deadline.ts";
import { type Client, removeInstance, TOKENS } from "../helpers/test-server.ts";
import { versioned } from "../helpers/versioned.ts";

/** Alice, through the client SDK; without reconnecting, since each berth here is killed on purpose. */
function connect(url: string): Promise<Client> {
  return connectClient(url, { token: TOKENS.alice, reconnect: false });
}

describe("berth killed with SIGKILL and started again", () => {
  let dataDir: string;
  let berth: BerthProcess | undefined;
  let env: Record<string, string>;
  const clients: Client[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "br-"));
    env = { BERTH_DATA_DIR: dataDir, BERTH_TOKENS: `alice:${TOKENS.alice}`, BERTH_STOP_TIMEOUT_SEC: "1" };
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await berth?.kill("SIGKILL");
    const instanceId = (await readFile(join(dataDir, "instance-id"), "utf8").catch(() => "")).trim();
    if (instanceId) await removeInstance(instanceId);
    await rm(dataDir, { recursive: true, force: true });
    await rm(secretKeyFileBeside(dataDir), { force: true });
  });

  it("leaves containers running; the next berth adopts them, workloads reconnect, and what changed meanwhile is reported once", async () => {
    berth = await spawnBerth(env);
    let alice = await connect(berth.url);
    clients.push(alice);
    const echo = await readFile(new URL("../fixtures/workloads/echo.js", import.meta.url), "utf8");
    const a = await alice.containers.create({ name: "survivor", code: { files: { "index.js": echo } } });
    const b = await alice.containers.create({
      name: "dies-meanwhile",
      code: { files: { "index.js": echo } },
    });
    expect(await a.request("before")).toBe("before");

    await berth.kill("SIGKILL");
    // While berth is away: one workload keeps running, the other is stopped (exit 137).
    execFileSync("docker", ["kill", `berth-${b.id}`]);
    expect(
      execFileSync("docker", ["inspect", "-f", "{{.State.Running}}", `berth-${a.id}`])
        .toString()
        .trim(),
    ).toBe("true");

    berth = await spawnBerth(env);
    alice = await connect(berth.url);
    clients.push(alice);
    // Handles from the new connection; the workload reconnects by itself (it retries every 200 ms).
    const survivor = await alice.containers.get(a.id);
    const died = await alice.containers.get(b.id);
    let answer: unknown;
    await eventually(60_000, "an answer from the survivor through the new berth", async () => {
      answer = await survivor.request("after", { timeoutMs: 4000 }).catch((e: unknown) => `${e}`);
      return answer === "after" || String(answer);
    });
    expect(await survivor.status()).toMatchObject({ state: "running", channel: { connected: true } });
    expect(await died.status()).toMatchObject({ state: "exited", exitCode: 137 });
    const history = await alice.activity.history({ containerId: b.id });
    const exits = history.items.filter((e) => e.action === "container.exited");
    expect(exits).toHaveLength(1);
    expect(exits[0]?.message).toBe("'dies-meanwhile' stopped unexpectedly (exit code 137)");
  });
});

describe("berth killed with SIGKILL in the middle of an update", () => {
  let dataDir: string;
  let berth: BerthProcess | undefined;
  const clients: Client[] = [];

  afterAll(async () => {
    for (const c of clients) await c.close();
    await berth?.kill("SIGKILL");
    const instanceId = (await readFile(join(dataDir, "instance-id"), "utf8").catch(() => "")).trim();
    if (instanceId) await removeInstance(instanceId);
    await rm(dataDir, { recursive: true, force: true });
    await rm(secretKeyFileBeside(dataDir), { force: true });
  });

  it("ends on one complete release, and the store agrees with the disk", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "bu-"));
    const env = {
      BERTH_DATA_DIR: dataDir,
      BERTH_TOKENS: `alice:${TOKENS.alice}`,
      BERTH_STOP_TIMEOUT_SEC: "1",
    };
    berth = await spawnBerth(env);
    let alice = await connect(berth.url);
    clients.push(alice);
    const { id } = await alice.containers.create({ name: "mid-update", code: versioned("v1") });
    // v2 spends 3 s before it connects: long enough to kill berth while it waits for the hello.
    // Its answer never comes: berth dies first (the rejection is expected, and handled at once).
    const updating = (await alice.containers.get(id))
      .update(versioned("v2", { prelude: "const until = Date.now() + 3000; while (Date.now() < until) {}" }))
      .catch(() => undefined);
    await eventually(
      60_000,
      "the release pointer on release 2",
      async () => (await readlink(join(dataDir, "code", id, "current")).catch(() => "")) === "releases/2",
      20,
    );
    await berth.kill("SIGKILL");
    await updating;

    berth = await spawnBerth(env);
    alice = await connect(berth.url);
    clients.push(alice);
    const bot = await alice.containers.get(id);
    let answer: unknown;
    await eventually(60_000, "an answer from the workload through the new berth", async () => {
      answer = await bot.request({ version: true }, { timeoutMs: 4000 }).catch(() => undefined);
      return answer !== undefined || "no answer yet";
    });
    expect(answer).toBe("v1");
    expect(await readlink(join(dataDir, "code", id, "current"))).toBe("releases/1");
    const items = await bot.releases();
    expect(items.map((r) => [r.number, r.status])).toEqual([
      [2, "failed"],
      [1, "active"],
    ]);
    expect(await bot.status()).toMatchObject({ state: "running", release: 1 });
  });
});
