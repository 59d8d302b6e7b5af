import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type ChannelHarness, openHarness, TEST_ID } from "../channel/testing/channel-harness.ts";
import type { Runtime } from "./image-labels.ts";
import { isProbeAnswer, probeCode } from "./image-probes.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const hasPython = spawnSync("python3", ["--version"]).status === 0;

/** How the host runs each probe, with the SDK the runtime image carries found where the repository keeps it. */
const RUN: Record<Runtime, { command: string; env: Record<string, string> }> = {
  node: { command: process.execPath, env: { NODE_PATH: join(root, "node_modules") } },
  python: {
    command: "python3",
    env: { PYTHONPATH: join(root, "packages", "workload-python"), PYTHONDONTWRITEBYTECODE: "1" },
  },
};

// The probes run for real in berth's images (test/system/image-check.test.ts); here on the host, so that
// a probe that no longer speaks to its SDK fails fast, with or without the images on the engine.
describe("berth image check's probes, run on the host against a real channel", () => {
  let h: ChannelHarness | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const runtime of ["node", "python"] as const) {
    it.skipIf(runtime === "python" && !hasPython)(
      `the ${runtime} probe says hello and answers with its working directory and uid`,
      async () => {
        h = await openHarness();
        dir = await mkdtemp(join(tmpdir(), "berth-probe-"));
        const [entry] = probeCode(runtime);
        if (entry?.kind !== "file") throw new Error("a probe is one file");
        await writeFile(join(dir, entry.path), entry.content);
        const child = spawn(RUN[runtime].command, [entry.path], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...RUN[runtime].env, BERTH_SOCKET: h.path },
          stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (c: Buffer) => {
          stderr += c.toString();
        });
        try {
          const hello = await h.hub.waitForHello(TEST_ID, { signal: AbortSignal.timeout(10_000) });
          expect(hello.meta).toEqual({ probe: "berth-image-check" });
          const answer = await h.hub.request(TEST_ID, { probe: "berth-image-check" }, { timeoutMs: 5_000 });
          expect(isProbeAnswer(answer)).toBe(true);
          expect(answer).toMatchObject({ runtime, cwd: dir, uid: process.getuid?.(), entries: 1 });
          expect(stderr).toBe("");
        } finally {
          child.kill();
        }
      },
    );
  }
});
