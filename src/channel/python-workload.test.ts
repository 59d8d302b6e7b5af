import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";

const script = fileURLToPath(new URL("../../test/fixtures/python/echo_workload.py", import.meta.url));
const protocolDoc = fileURLToPath(new URL("../../docs/protocol.md", import.meta.url));
const hasPython = spawnSync("python3", ["--version"]).status === 0;

it("shows the tested Python client in docs/protocol.md, word for word", () => {
  expect(readFileSync(protocolDoc, "utf8")).toContain(`\`\`\`python\n${readFileSync(script, "utf8")}\`\`\``);
});

// The example client of docs/protocol.md, run for real: the document cannot drift from the protocol.
describe.skipIf(!hasPython)(
  `the Python example workload${hasPython ? "" : " (skipped: python3 is not on the PATH)"}`,
  () => {
    let h: ChannelHarness | undefined;
    afterEach(async () => {
      await h?.cleanup();
    });

    it("says hello, answers requests and pings, echoes messages, and exits when berth closes", async () => {
      h = await openHarness();
      const hub = h.hub;
      const child = spawn("python3", [script], {
        env: { ...process.env, BERTH_SOCKET: h.path },
        stdio: ["ignore", "inherit", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      try {
        const hello = await hub.waitForHello(TEST_ID, { signal: AbortSignal.timeout(10_000) });
        expect(hello.meta).toEqual({ runtime: "python" });
        await expect(hub.request(TEST_ID, { text: "grüße ✓", n: [1, 2] })).resolves.toEqual({
          echo: { text: "grüße ✓", n: [1, 2] },
        });
        await expect(hub.request(TEST_ID, { fail: "as asked" })).rejects.toMatchObject({
          code: "WORKLOAD_ERROR",
          details: { message: "as asked", code: "E_ASKED" },
        });
        expect(await hub.ping(TEST_ID)).toBeGreaterThan(0);
        const echoed = new Promise((resolve) => hub.once("message", (_id, data) => resolve(data)));
        await hub.send(TEST_ID, { round: "trip" });
        expect(await echoed).toEqual({ round: "trip" });
        await hub.close(TEST_ID);
        expect(await exited).toBe(0);
        expect(stderr).toBe("");
      } finally {
        child.kill();
      }
    });
  },
);
