import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { PythonWorkload } from "../../packages/workload-python/test/python-workload.ts";
import { type ChannelHarness, openHarness, TEST_ID } from "../channel/testing/channel-harness.ts";
import { isProbeAnswer, PROBE_MARK, probeCode } from "./image-probes.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
// The probes run for real in berth's images through the whole check (test/system/image-check.test.ts);
// here each alone against a real channel, so that a probe that no longer speaks to its SDK fails fast:
// the Node.js one on the host (with the repository's @berth/workload), the Python one in berth's Python
// image (with the berth_workload installed there).
describe("berth image check's probes, against a real channel", () => {
  let h: ChannelHarness | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the node probe says hello and answers with its working directory and uid", async () => {
    h = await openHarness();
    dir = await mkdtemp(join(tmpdir(), "berth-probe-"));
    const [entry] = probeCode("node");
    if (entry?.kind !== "file") throw new Error("a probe is one file");
    await writeFile(join(dir, entry.path), entry.content);
    const child = spawn(process.execPath, [entry.path], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        NODE_PATH: join(root, "node_modules"),
        BERTH_SOCKET: h.path,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    try {
      const hello = await h.hub.waitForHello(TEST_ID, { signal: AbortSignal.timeout(10_000) });
      expect(hello.meta).toEqual({ probe: "berth-image-check" });
      // A bound for a hung probe, not a speed check: a loaded machine can take seconds to schedule it.
      const answer = await h.hub.request(TEST_ID, { probe: "berth-image-check" }, { timeoutMs: 15_000 });
      expect(isProbeAnswer(answer)).toBe(true);
      expect(answer).toMatchObject({ runtime: "node", cwd: dir, uid: process.getuid?.(), entries: 1 });
      expect(stderr).toBe("");
    } finally {
      child.kill();
    }
  });

  it("the python probe says hello and answers with its working directory and uid", async () => {
    h = await openHarness();
    dir = await mkdtemp(join(tmpdir(), "berth-probe-"));
    const [entry] = probeCode("python");
    if (entry?.kind !== "file") throw new Error("a probe is one file");
    await writeFile(join(dir, entry.path), entry.content);
    const w = new PythonWorkload(join(dir, entry.path), h.path);
    try {
      const hello = await h.hub.waitForHello(TEST_ID, { signal: AbortSignal.timeout(15_000) });
      expect(hello.meta).toEqual({ probe: "berth-image-check" });
      // A bound for a hung probe, not a speed check: a loaded machine can take seconds to schedule it.
      const answer = await h.hub.request(TEST_ID, { probe: "berth-image-check" }, { timeoutMs: 15_000 });
      expect(isProbeAnswer(answer)).toBe(true);
      // PythonWorkload runs as uid 0 (capabilities dropped) in the image's working directory.
      expect(answer).toMatchObject({ runtime: "python", cwd: "/run/berth-code/current", uid: 0 });
      expect(w.stderr).toBe("");
    } finally {
      await w.stop();
    }
  });
});

describe("what counts as the probe's answer", () => {
  const answer = { probe: PROBE_MARK, runtime: "python", cwd: "/run/berth-code/releases/1", uid: 200123 };

  it("is the probe's mark with a working directory, a uid, and a count or an error", () => {
    expect(isProbeAnswer(answer)).toBe(true);
    expect(isProbeAnswer({ ...answer, entries: 3 })).toBe(true);
    expect(isProbeAnswer({ ...answer, error: "Permission denied" })).toBe(true);
  });

  it.each([
    ["an error that is not a string", { ...answer, error: 42 }],
    ["a count that is not a number", { ...answer, entries: "\x1b]52;c;aGk=\x07" }],
    ["a count that is not a whole number", { ...answer, entries: 1.5 }],
    ["a uid that is not a number", { ...answer, uid: "0" }],
    ["a working directory that is not a string", { ...answer, cwd: ["/"] }],
    ["no runtime", { ...answer, runtime: undefined }],
    ["another mark", { ...answer, probe: "x" }],
    ["an array", [answer]],
    ["nothing", null],
  ])("is not an answer with %s", (_, value) => {
    expect(isProbeAnswer(value)).toBe(false);
  });
});
