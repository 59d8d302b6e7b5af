import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBerth, startBerth } from "../helpers/berth-cli.ts";
import { within } from "../helpers/deadline.ts";

const TOKEN = "serve-token-0123456789";

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
      const line = serve
        .stdout()
        .split("\n")
        .find((l) => l.includes("berth is listening"));
      const port = (JSON.parse(line!) as { port: number }).port;
      const url = `http://127.0.0.1:${port}`;

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

  it("exits with berth's own exit code when berth refuses to start", async () => {
    const res = await runBerth(["serve", "--no-setup"], { ...env, BERTH_TOKENS: "not a token list" });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^berth: /m);
  });
});
