import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { PythonWorkload } from "../../packages/workload-python/test/python-workload.ts";
import { type ChannelHarness, openHarness, TEST_ID } from "./testing/channel-harness.ts";

const script = fileURLToPath(new URL("../../test/fixtures/python/echo_workload.py", import.meta.url));
const protocolDoc = fileURLToPath(new URL("../../docs/protocol.md", import.meta.url));

it("shows the tested Python client in docs/protocol.md, word for word", () => {
  expect(readFileSync(protocolDoc, "utf8")).toContain(`\`\`\`python\n${readFileSync(script, "utf8")}\`\`\``);
});

// The example client of docs/protocol.md, run for real in berth's Python image: the document cannot drift from the protocol.
describe("the Python example workload", () => {
  let h: ChannelHarness | undefined;
  let w: PythonWorkload | undefined;
  afterEach(async () => {
    await w?.stop();
    await h?.cleanup();
  });

  it("says hello, answers requests and pings, echoes messages, and exits when berth closes", async () => {
    h = await openHarness();
    const hub = h.hub;
    w = new PythonWorkload(script, h.path);
    const hello = await hub.waitForHello(TEST_ID, { signal: AbortSignal.timeout(15_000) });
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
    expect(await w.exited).toBe(0);
    expect(w.stderr).toBe("");
  });
});
