import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startBerth } from "../helpers/berth-cli.ts";
import { within } from "../helpers/deadline.ts";
import { echoCode, TOKENS, useTestServer } from "../helpers/test-server.ts";
import { writeTokensFile } from "../helpers/tokens-file.ts";

const CAROL = "carol-token-0123456789";
const base = `alice:${TOKENS.alice}\nbob:${TOKENS.bob}\n`;

describe("a following berth command whose token is revoked", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-cli-revoked-"));
  const file = join(dir, "tokens");
  writeTokensFile(file, `${base}carol:${CAROL}\n`);
  const server = useTestServer({ BERTH_TOKENS: "", BERTH_TOKENS_FILE: file });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("activity -f, logs -f and stats -w fail with SESSION_REVOKED (exit 1) instead of ending as if told to", async () => {
    const carol = await server.connect({ token: CAROL });
    const code = await echoCode();
    code.files["index.js"] += `\nsetInterval(() => console.log("tick from the workload"), 200);\n`;
    const made = await carol.containers.create({ name: "revoked-feed", code });
    await carol.close();
    const env = { BERTH_URL: server.url, BERTH_TOKEN: CAROL, XDG_CONFIG_HOME: join(dir, "config") };
    const follows = [
      // What each prints once it follows: from then on the revocation reaches it.
      { cli: startBerth(["activity", "-f"], env), ready: "revoked-feed" },
      { cli: startBerth(["logs", "revoked-feed", "-f"], env), ready: "tick from the workload" },
      { cli: startBerth(["stats", "revoked-feed", "-w", "--json"], env), ready: '"cpuPercent"' },
    ];
    try {
      await Promise.all(follows.map((f) => f.cli.waitForOutput(f.ready)));
      writeTokensFile(file, base, "inPlace");
      for (const { cli } of follows) {
        const res = await within(15_000, "a following command ending on the revocation", cli.exited);
        expect(res.code, res.stderr).toBe(1);
        expect(res.stderr).toMatch(/^error SESSION_REVOKED: /m);
        expect(res.stderr).not.toContain(CAROL);
      }
    } finally {
      for (const { cli } of follows) cli.child.kill("SIGKILL");
      const admin = await server.connect("admin");
      await admin.call("container:delete", { id: made.id });
      await admin.close();
    }
  });
});
