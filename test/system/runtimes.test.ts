import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refused } from "../helpers/refused.ts";
import { type Client, docker, echoCode, useTestServer } from "../helpers/test-server.ts";

const exec = promisify(execFile);
const NODE = "berth/runtime-node:24";
const PYTHON = "berth/runtime-python:3.11";
const tag = randomBytes(4).toString("hex");
/** Throwaway images FROM berth's node image, each with labels of its own; removed after. */
const LABELLED = `berth-test/labelled-${tag}:1`;
const NEWER_SDK = `berth-test/newer-sdk-${tag}:1`;
const MALFORMED = `berth-test/malformed-${tag}:1`;
/** What a malformed label holds: none of it may reach a client. */
const LEAK = "LABEL-CANARY-5e1f";

/**
 * The echo fixture, answering `{ where: true }` with the directory it runs in
 * and the `release.txt` it finds there: proof that the working directory is
 * the code's current release, whatever the image's own WorkingDir says.
 */
async function whereCode(entry: string, release: string): Promise<{ files: Record<string, string> }> {
  const echo = (await echoCode()).files["index.js"] as string;
  const where = echo.replace(
    "else if (d?.version)",
    `else if (d?.where) send({ type: "response", id: frame.id, data: { cwd: process.cwd(), release: require("node:fs").readFileSync("release.txt", "utf8") } });
        else if (d?.version)`,
  );
  return { files: { [entry]: where, "release.txt": release } };
}

/** Builds `image` FROM berth's node image with these Dockerfile lines (offline: no registry is asked). */
async function buildImage(image: string, lines: string[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "berth-image-"));
  try {
    await writeFile(join(dir, "Dockerfile"), [`FROM ${NODE}`, ...lines, ""].join("\n"));
    await exec("docker", ["build", "-q", "-t", image, dir]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("runtimes on the real engine", () => {
  const server = useTestServer({ BERTH_ALLOWED_IMAGES: [LABELLED, NEWER_SDK, MALFORMED].join(",") });
  let alice: Client;

  beforeAll(async () => {
    await Promise.all([
      // A node image as the new recipe makes them: labels, and a command relative to the working directory.
      buildImage(LABELLED, [
        'LABEL berth.runtime="node" berth.entry="main.js" berth.command="[\\"node\\",\\"main.js\\"]" berth.protocol="1"',
        'CMD ["node", "main.js"]',
      ]),
      buildImage(NEWER_SDK, ['LABEL berth.runtime="node" berth.entry="index.js" berth.protocol="2"']),
      buildImage(MALFORMED, [
        `LABEL berth.runtime="node;${LEAK}" berth.entry="../${LEAK}" berth.command="[${LEAK}" berth.protocol="${LEAK}"`,
        // The command of berth's images from before labels, which berth then reads the entry file from.
        'CMD ["node", "/app/index.js"]',
      ]),
    ]);
    alice = await server.connect("alice");
  }, 120_000);

  afterAll(async () => {
    // The test server's close (registered first, so run after this) removes the containers; the images go here.
    await Promise.all(
      [LABELLED, NEWER_SDK, MALFORMED].map((image) =>
        docker
          .getImage(image)
          .remove({ force: true })
          .catch(() => {}),
      ),
    );
  });

  it("creates with runtime 'node' and with no runtime, ready in the code's current release", async () => {
    for (const [name, runtime] of [
      ["rt-node", "node"],
      ["rt-default", undefined],
    ] as const) {
      const bot = await alice.containers.create({
        name,
        ...(runtime ? { runtime } : {}),
        code: await whereCode("index.js", "1"),
      });
      expect(bot.info).toMatchObject({ state: "running", image: NODE, runtime: "node" });
      const inspect = await docker.getContainer(`berth-${bot.id}`).inspect();
      expect(inspect.Config.WorkingDir).toBe("/run/berth-code/current");
      // The engine resolved the link at start: the process works in the release itself.
      expect(await bot.request({ where: true })).toEqual({ cwd: "/run/berth-code/releases/1", release: "1" });
      expect((await bot.status()).runtime).toBe("node");
    }
  });

  it("follows the current release across an update and its restart", async () => {
    const bot = await alice.containers.get("rt-node");
    await bot.update(await whereCode("index.js", "2"));
    expect(await bot.request({ where: true })).toEqual({ cwd: "/run/berth-code/releases/2", release: "2" });
    await bot.restart();
    expect(await bot.request({ where: true })).toEqual({ cwd: "/run/berth-code/releases/2", release: "2" });
  });

  it("refuses an update without the runtime's entry file, naming it and the runtime", async () => {
    const bot = await alice.containers.get("rt-node");
    const err = await refused(bot.update({ files: { "main.py": "print(1)" } }));
    expect(err).toMatchObject({
      code: "VALIDATION_FAILED",
      details: { field: "code", missing: "index.js", runtime: "node" },
    });
    expect((await bot.status()).release).toBe(2);
  });

  it("runs a labelled image's relative command in the working directory, and checks its berth.entry", async () => {
    const bot = await alice.containers.create({
      name: "rt-labelled",
      runtime: "node",
      image: LABELLED,
      code: await whereCode("main.js", "1"),
    });
    expect(bot.info).toMatchObject({ image: LABELLED, runtime: "node" });
    expect(await bot.request({ where: true })).toEqual({ cwd: "/run/berth-code/releases/1", release: "1" });

    const missing = await refused(
      alice.containers.create({ name: "rt-no-main", image: LABELLED, code: await echoCode() }),
    );
    expect(missing).toMatchObject({
      code: "VALIDATION_FAILED",
      details: { field: "code", missing: "main.js", runtime: "node" },
    });
    expect(missing.message).toContain("(node main.js)");
  });

  it("refuses a runtime and an image that disagree, naming both", async () => {
    const err = await refused(
      alice.containers.create({
        name: "rt-mixed",
        runtime: "python",
        image: LABELLED,
        code: await echoCode(),
      }),
    );
    expect(err).toMatchObject({
      code: "VALIDATION_FAILED",
      details: { field: "runtime", runtime: "python", image: LABELLED, imageRuntime: "node" },
    });
    expect(err.message).toContain(`The runtime 'python' and the image '${LABELLED}' disagree`);
  });

  it("refuses an image whose SDK speaks another protocol, with nothing made", async () => {
    const err = await refused(
      alice.containers.create({ name: "rt-newer", image: NEWER_SDK, code: await echoCode() }),
    );
    expect(err).toMatchObject({
      code: "IMAGE_INCOMPATIBLE",
      details: { image: NEWER_SDK, protocol: 2, supported: [1] },
    });
    const made = await docker.listContainers({ all: true, filters: { label: ["berth.name=rt-newer"] } });
    expect(made).toEqual([]);
  });

  it("takes malformed labels as absent, and shows none of them to a client", async () => {
    // Without usable labels the image is as one from before labels: CMD node /app/index.js, whose index.js is checked.
    const bot = await alice.containers.create({
      name: "rt-malformed",
      image: MALFORMED,
      code: await echoCode(),
    });
    expect(bot.info.runtime).toBeUndefined();
    const missing = await refused(
      alice.containers.create({ name: "rt-malformed-2", image: MALFORMED, code: { files: { "a.js": "" } } }),
    );
    expect(missing.details).toMatchObject({ missing: "index.js" });
    const mixed = await refused(
      alice.containers.create({
        name: "rt-malformed-3",
        runtime: "node",
        image: MALFORMED,
        code: await echoCode(),
      }),
    );
    expect(mixed.message).toContain("has no berth.runtime label");
    for (const answer of [bot.info, missing, mixed]) expect(JSON.stringify(answer)).not.toContain(LEAK);
    // The operator hears of it, in berth's own log, once per label.
    const warned = server
      .logs()
      .split("\n")
      .filter((l) => l.includes("malformed berth label") && l.includes(MALFORMED));
    expect(warned).toHaveLength(4);
  });

  it("lists the runtimes in server:info, with what the engine has", async () => {
    const info = await alice.call("server:info", {});
    expect(info.runtimes.map((r) => r.name)).toEqual(["node", "python"]);
    expect(info.runtimes[0]).toMatchObject({ name: "node", image: NODE, entry: "index.js", available: true });
    expect(info.runtimes[1]).toMatchObject({ name: "python", image: PYTHON, available: true });
    expect(info.images.allowed).toEqual(expect.arrayContaining([NODE, PYTHON, LABELLED]));
  });

  it("creates with runtime 'python'", async () => {
    const main = [
      "import os",
      "import berth_workload",
      "",
      "def answer(data):",
      "    with open('release.txt') as f:",
      "        return {'cwd': os.getcwd(), 'release': f.read(), 'echo': data}",
      "",
      "berth_workload.run(answer)",
      "",
    ].join("\n");
    const missing = await refused(
      alice.containers.create({ name: "rt-python", runtime: "python", code: { files: { "index.js": "" } } }),
    );
    expect(missing).toMatchObject({
      code: "VALIDATION_FAILED",
      details: { missing: "main.py", runtime: "python" },
    });
    const bot = await alice.containers.create({
      name: "rt-python",
      runtime: "python",
      code: { files: { "main.py": main, "release.txt": "1" } },
    });
    expect(bot.info).toMatchObject({ state: "running", image: PYTHON, runtime: "python" });
    expect(await bot.request({ n: 1 })).toEqual({
      cwd: "/run/berth-code/releases/1",
      release: "1",
      echo: { n: 1 },
    });
  });
});
