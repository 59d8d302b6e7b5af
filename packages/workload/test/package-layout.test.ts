import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type ChannelHarness, openHarness, TEST_ID } from "../../../src/channel/testing/channel-harness.ts";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

const workloads = {
  "require() from /app/index.js": [
    "index.js",
    `const { connect } = require("@berth/workload");
     const berth = connect();
     berth.onRequest((data) => ({ via: "require", data }));`,
  ],
  "import from an ES module": [
    "index.mjs",
    `import { connect } from "@berth/workload";
     const berth = connect();
     berth.onRequest(async (data) => ({ via: "import", data }));`,
  ],
} as const;

// The runtime image holds package.json and lib/ at /node_modules/@berth/workload; this lays them out the same way.
describe("the package as the runtime image holds it", () => {
  let h: ChannelHarness | undefined;
  let root: string | undefined;
  afterEach(async () => {
    await h?.cleanup();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it.each(Object.entries(workloads))("works with %s", async (_how, [file, source]) => {
    root = await mkdtemp(join(tmpdir(), "berth-image-"));
    const target = join(root, "node_modules", "@berth", "workload");
    await mkdir(join(root, "app"), { recursive: true });
    await mkdir(target, { recursive: true });
    await cp(join(packageDir, "package.json"), join(target, "package.json"));
    await cp(join(packageDir, "lib"), join(target, "lib"), { recursive: true });
    await writeFile(join(root, "app", file), source);
    h = await openHarness();
    const child = spawn(process.execPath, [join(root, "app", file)], {
      cwd: join(root, "app"),
      env: { ...process.env, BERTH_SOCKET: h.path, NODE_PATH: "" },
      stdio: "inherit",
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await h.hub.waitForHello(TEST_ID, { signal: AbortSignal.timeout(10_000) });
      const answer = await h.hub.request(TEST_ID, 42);
      expect(answer).toEqual({ via: file.endsWith(".mjs") ? "import" : "require", data: 42 });
    } finally {
      child.kill();
      await exited;
    }
  });
});
