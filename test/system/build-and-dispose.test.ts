import { chmodSync, existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Berth } from "../../src/berth.ts";
import { loadConfig } from "../../src/config/config.ts";
import { runningBerthPid } from "../../src/config/pid-file.ts";
import { removeInstance, TOKENS } from "../helpers/test-server.ts";
import { queryStore, removeStoreFor, storeEnvFor, TEST_STORE } from "../helpers/test-store.ts";
import { writeTokensFile } from "../helpers/tokens-file.ts";

/** Files under `dir` this process holds open (SQLite's database, its journal, a watch, …). */
function openFilesUnder(dir: string): string[] {
  const held: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${dir}/`)) held.push(target);
    } catch {
      // Closed between the listing and the read (the listing's own descriptor, for one).
    }
  }
  return held;
}

/** Connections to the data directory's database other than the one asking. */
async function storeConnections(dataDir: string): Promise<number> {
  const [row] = await queryStore<{ n: string }>(
    dataDir,
    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
  );
  return Number(row?.n);
}

/** Timers that keep the process alive (berth's own are unref'd: a leak of those shows in the other checks). */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("berth built half-way", () => {
  let dir: string;
  let dataDir: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "bbd-"));
    dataDir = join(dir, "data");
    env = {
      BERTH_DATA_DIR: dataDir,
      BERTH_SECRET_KEY_FILE: join(dir, "secret.key"),
      BERTH_ADMIN_TOKEN: TOKENS.admin,
      BERTH_LOG_LEVEL: "silent",
      BERTH_PORT: "0",
      ...(await storeEnvFor(dataDir)),
    };
  });
  afterEach(async () => {
    await removeStoreFor(dataDir);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The store is closed and nothing else berth opened is held: no file, no connection, no timer. */
  async function expectNothingLeft(timersBefore: number): Promise<void> {
    expect(openFilesUnder(dataDir)).toEqual([]);
    if (TEST_STORE === "postgres") expect(await storeConnections(dataDir)).toBe(0);
    expect(timers()).toBeLessThanOrEqual(timersBefore);
    expect(existsSync(join(dataDir, "berth.pid"))).toBe(false);
  }

  it("closes the store it opened when the tokens file is refused after it, and leaves nothing open", async () => {
    const tokensFile = join(dir, "tokens");
    writeTokensFile(tokensFile, `alice:${TOKENS.alice}\n`);
    chmodSync(tokensFile, 0o640);
    const timersBefore = timers();
    await expect(Berth.open(loadConfig({ ...env, BERTH_TOKENS_FILE: tokensFile }))).rejects.toThrow(
      /BERTH_TOKENS_FILE: .*mode 0640/,
    );
    // The store had opened: the refusal came after it.
    expect(existsSync(join(dataDir, "instance-id")) || TEST_STORE === "postgres").toBe(true);
    await expectNothingLeft(timersBefore);
  });

  describe("with a port that is taken", () => {
    let taken: Server;
    let port: number;
    beforeEach(async () => {
      taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
      port = (taken.address() as { port: number }).port;
    });
    afterEach(() => new Promise<void>((resolve) => taken.close(() => resolve())));

    it("disposes, at close(), of what a start that failed had started already", async () => {
      const timersBefore = timers();
      const berth = await Berth.open(
        loadConfig({ ...env, BERTH_HOST: "127.0.0.1", BERTH_PORT: String(port) }),
      );
      try {
        // The reconciliation ran, the engine monitor and the egress re-check were started: all before listening.
        await expect(berth.start()).rejects.toThrow(/EADDRINUSE/);
      } finally {
        await berth.close();
        await removeInstance(berth.instanceId);
      }
      await expectNothingLeft(timersBefore);
    });
  });

  it("starts nothing more once close() comes while start() awaits, rejects SHUTTING_DOWN, and leaves nothing open", async () => {
    const timersBefore = timers();
    const berth = await Berth.open(loadConfig({ ...env, BERTH_HOST: "127.0.0.1" }));
    try {
      // start() awaits the store's containers before it reconciles: close() comes then, as a SIGTERM would.
      const starting = berth.start();
      const closing = berth.close();
      await expect(starting).rejects.toMatchObject({ code: "SHUTTING_DOWN" });
      await closing;
    } finally {
      await berth.close();
      await removeInstance(berth.instanceId);
    }
    await expectNothingLeft(timersBefore);
  });

  it("leaves the pid file of the berth serving the directory when a second one on it fails to start and closes", async () => {
    const first = await Berth.open(loadConfig({ ...env, BERTH_HOST: "127.0.0.1" }));
    try {
      const port = await first.start();
      expect(runningBerthPid(dataDir)).toBe(process.pid);
      const second = await Berth.open(
        loadConfig({ ...env, BERTH_HOST: "127.0.0.1", BERTH_PORT: String(port) }),
      );
      await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
      await second.close();
      // The key rotation refuses to run while this file names a live berth: the first one still serves.
      expect(runningBerthPid(dataDir)).toBe(process.pid);
    } finally {
      await first.close();
      await removeInstance(first.instanceId);
    }
    expect(existsSync(join(dataDir, "berth.pid"))).toBe(false);
  });
});
