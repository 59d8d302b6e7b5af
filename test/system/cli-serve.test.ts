import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBerth, startBerth } from "../helpers/berth-cli.ts";
import { within } from "../helpers/deadline.ts";
import { writeTokensFile } from "../helpers/tokens-file.ts";

const TOKEN = "serve-token-0123456789";
const DAVE = "dave-token-0123456789";

/** The port berth printed in its "listening" line. */
function listeningUrl(stdout: string): string {
  const line = stdout.split("\n").find((l) => l.includes("berth is listening"));
  return `http://127.0.0.1:${(JSON.parse(line!) as { port: number }).port}`;
}

describe("berth serve", () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "bt-serve-"));
    env = {
      BERTH_DATA_DIR: dataDir,
      BERTH_SECRET_KEY_FILE: `${dataDir}.secret.key`,
      BERTH_PORT: "0",
      BERTH_LOG_LEVEL: "info",
      BERTH_TOKENS: `carol:${TOKEN}`,
      XDG_CONFIG_HOME: dataDir,
    };
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(`${dataDir}.secret.key`, { force: true });
  });

  it("runs berth from this checkout, which answers the CLI, and passes SIGTERM on: exit 0", async () => {
    const serve = startBerth(["serve", "--no-setup"], env);
    try {
      await serve.waitForOutput("berth is listening", 60_000);
      const url = listeningUrl(serve.stdout());

      const ls = await runBerth(["ls", "--json"], {
        BERTH_URL: url,
        BERTH_TOKEN: TOKEN,
        XDG_CONFIG_HOME: dataDir,
      });
      expect(ls.code, ls.stderr).toBe(0);
      expect(JSON.parse(ls.stdout)).toEqual([]);

      serve.child.kill("SIGTERM");
      const res = await within(40_000, "berth serve ending on SIGTERM", serve.exited);
      expect(res.code).toBe(0);
      const after = await runBerth(["ls"], { BERTH_URL: url, BERTH_TOKEN: TOKEN, XDG_CONFIG_HOME: dataDir });
      expect(after.stderr).toMatch(/^error CONNECTION_FAILED: /m);
    } finally {
      serve.child.kill("SIGKILL");
    }
  });

  it("passes SIGHUP on: berth reloads its tokens file, and the wrapper keeps running", async () => {
    // The file is a link into another directory, where berth's watcher does not look: only SIGHUP reloads it.
    const tokensDir = join(dataDir, "tokens");
    mkdirSync(join(tokensDir, "real"), { recursive: true });
    mkdirSync(join(tokensDir, "watched"));
    writeTokensFile(join(tokensDir, "real", "tokens"), `carol:${TOKEN}\n`);
    symlinkSync(join(tokensDir, "real", "tokens"), join(tokensDir, "watched", "tokens"));
    let berthPid: number | undefined;
    const serve = startBerth(["serve", "--no-setup"], {
      ...env,
      BERTH_TOKENS: "",
      BERTH_TOKENS_FILE: join(tokensDir, "watched", "tokens"),
    });
    try {
      await serve.waitForOutput("berth is listening", 60_000);
      // berth itself, the wrapper's child: killed at the end however the wrapper ended.
      berthPid = Number(execFileSync("pgrep", ["-P", String(serve.child.pid)], { encoding: "utf8" }).trim());
      const url = listeningUrl(serve.stdout());
      const asDave = () =>
        runBerth(["ls", "--json"], { BERTH_URL: url, BERTH_TOKEN: DAVE, XDG_CONFIG_HOME: dataDir });
      expect((await asDave()).stderr).toMatch(/^error UNAUTHORIZED: /m);

      writeTokensFile(join(tokensDir, "real", "tokens"), `carol:${TOKEN}\ndave:${DAVE}\n`);
      serve.child.kill("SIGHUP");
      await serve.waitForOutput('"msg":"tokens reloaded"', 10_000);
      const ls = await asDave();
      expect(ls.code, ls.stderr).toBe(0);
      expect(serve.child.exitCode).toBeNull();

      serve.child.kill("SIGTERM");
      expect((await within(40_000, "berth serve ending on SIGTERM", serve.exited)).code).toBe(0);
    } finally {
      serve.child.kill("SIGKILL");
      if (berthPid) {
        try {
          process.kill(berthPid, "SIGKILL");
        } catch {
          // already gone, as it should be
        }
      }
    }
  });

  it("exits with berth's own exit code when berth refuses to start", async () => {
    const res = await runBerth(["serve", "--no-setup"], { ...env, BERTH_TOKENS: "not a token list" });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^berth: /m);
  });
});
