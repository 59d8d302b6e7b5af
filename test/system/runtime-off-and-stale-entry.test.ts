import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refused } from "../helpers/refused.ts";
import { useTestServer } from "../helpers/test-server.ts";
import { removeImage } from "../helpers/throwaway-image.ts";

const exec = promisify(execFile);

const NODE = "berth/runtime-node:24";
const PYTHON = "berth/runtime-python:3.11";

/** A Python bot that echoes, as its own file: bot.py, not the runtime image's main.py. */
const BOT = ["import berth_workload", "", "berth_workload.run(lambda data: {'bot': data})", ""].join("\n");

describe("a server that turns the Python runtime off (BERTH_RUNTIME_IMAGES=python=)", () => {
  const server = useTestServer({ BERTH_RUNTIME_IMAGES: "python=" });

  it("neither offers it nor allows its image, and refuses a spec naming it", async () => {
    const alice = await server.connect("alice");
    const info = await alice.call("server:info", {});
    expect(info.runtimes.map((r) => r.name)).toEqual(["node"]);
    expect(info.images.allowed).toEqual([NODE]);
    const byRuntime = await refused(
      alice.containers.create({ name: "py", runtime: "python", code: { files: { "main.py": BOT } } }),
    );
    expect(byRuntime).toMatchObject({
      code: "VALIDATION_FAILED",
      message:
        "This server does not offer the python runtime (its operator turned it off); the runtimes it offers: node.",
      details: { field: "runtime", runtime: "python", offered: ["node"] },
    });
    const byImage = await refused(
      alice.containers.create({ name: "py", image: PYTHON, code: { files: { "main.py": BOT } } }),
    );
    expect(byImage).toMatchObject({ code: "VALIDATION_FAILED", details: { field: "image" } });
    expect((await alice.containers.list().page()).items).toEqual([]);
  });
});

describe("an image built FROM the Python runtime image with a command of its own", () => {
  // It resets berth.command but keeps the berth.entry=main.py it inherited: a stale label.
  const image = `berth-test/stale-entry-${randomBytes(4).toString("hex")}:1`;
  const server = useTestServer({ BERTH_ALLOWED_IMAGES: image });

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-image-"));
    try {
      await writeFile(
        join(dir, "Dockerfile"),
        `FROM ${PYTHON}\nLABEL berth.command=""\nCMD ["python3", "bot.py"]\n`,
      );
      await exec("docker", ["build", "-q", "-t", image, dir]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  afterAll(async () => {
    // The test server's close (registered first, so run after this) removes the container; the image goes here.
    await removeImage(image);
  });

  it("runs code without the stale entry file, and image check names the stale label", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "bot", image, code: { files: { "bot.py": BOT } } });
    expect(bot.info).toMatchObject({ state: "running", runtime: "python" });
    expect(await bot.request({ n: 1 })).toEqual({ bot: { n: 1 } });

    const admin = await server.connect("admin");
    const result = await admin.images.check(image, { code: { files: { "bot.py": BOT } } });
    const labels = result.checks.find((c) => c.name === "labels");
    expect(labels).toMatchObject({ status: "failed" });
    expect(labels?.summary).toContain(
      "berth.entry is 'main.py', but the image's command (python3 bot.py) does not run it",
    );
    expect(result.checks.find((c) => c.name === "request")?.status).toBe("passed");
  });
});
