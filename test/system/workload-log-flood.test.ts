import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { eventually } from "../helpers/deadline.ts";
import { echoCode, startTestServer } from "../helpers/test-server.ts";

const CYCLES = 300;
const BAD_FRAMES = 20;
const floodCode = async () => ({
  files: {
    "index.js": await readFile(new URL("../fixtures/workloads/reconnect-flood.js", import.meta.url), "utf8"),
  },
});

function linesOf(logs: string, containerId: string): Array<Record<string, unknown>> {
  return logs
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.containerId === containerId);
}

describe("a workload that reconnects in a loop and sends bad frames", () => {
  it("costs the system log a handful of lines, with the counts; another owner's workload is still logged", async () => {
    const server = await startTestServer();
    let closed = false;
    try {
      const [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
      const flood = await alice.containers.create({
        name: "flood",
        env: { FLOOD_CYCLES: String(CYCLES), FLOOD_BAD_FRAMES: String(BAD_FRAMES) },
        code: await floodCode(),
        waitReady: false,
      });
      await eventually(60_000, "the workload finished its reconnect loop", async () => {
        return (await flood.request({ cycles: true }).catch(() => undefined)) === CYCLES;
      });
      const quiet = await bob.containers.create({ name: "quiet", code: await echoCode() });

      expect(linesOf(server.logs(), flood.id).length).toBeLessThanOrEqual(15);
      expect(linesOf(server.logs(), quiet.id).map((l) => l.msg)).toContain("workload connected");

      await server.close(); // writes the counts of the interval in progress
      closed = true;
      const lines = linesOf(server.logs(), flood.id);
      expect(lines.length).toBeLessThanOrEqual(20);
      const count = (msg: string) =>
        lines.filter((l) => l.msg === msg).length +
        lines.filter((l) => l.msg === `${msg} (repeated)`).reduce((n, l) => n + Number(l.repeated), 0);
      expect(count("workload connected")).toBe(CYCLES + 1);
      expect(count("dropped bad frame")).toBeGreaterThanOrEqual(CYCLES * BAD_FRAMES * 0.9);
    } finally {
      if (!closed) await server.close();
    }
  }, 120_000);
});
