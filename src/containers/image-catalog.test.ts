import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { howToBuild, ImageCatalog } from "./image-catalog.ts";

function logger() {
  const out = new PassThrough();
  let text = "";
  out.on("data", (c: Buffer) => {
    text += c.toString();
  });
  const log = createSystemLogger({ level: "info", redactor: new Redactor(), destination: out });
  return {
    log,
    lines: () =>
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

describe("ImageCatalog", () => {
  it("logs each missing allowed image with how to build it", async () => {
    const docker = new FakeDockerClient();
    docker.images = new Map([
      ["berth/runtime-node:24", { entrypoint: [], cmd: ["node", "/app/index.js"], labels: {} }],
    ]);
    const { log, lines } = logger();
    const missing = await new ImageCatalog(docker).report(["berth/runtime-node:24", "acme/py:3"], log);
    log.flush();
    expect(missing).toEqual(["acme/py:3"]);
    expect(lines()).toEqual([
      expect.objectContaining({
        image: "acme/py:3",
        fix: expect.stringContaining("docker build -t acme/py:3"),
      }),
    ]);
    expect(howToBuild("berth/runtime-node:24")).toContain("npm run setup");
  });

  it("never throws while the engine is down: it says so, and is asked again when the engine is back", async () => {
    const docker = new FakeDockerClient();
    docker.down = true;
    const { log, lines } = logger();
    expect(await new ImageCatalog(docker).report(["a:1", "b:2"], log)).toEqual([]);
    log.flush();
    expect(lines()).toEqual([expect.objectContaining({ image: "a:1", level: expect.anything() })]);
  });

  it("reads berth's labels from an image, and warns once of each malformed one, which counts as absent", async () => {
    const docker = new FakeDockerClient();
    docker.images = new Map([
      [
        "acme/py:1",
        {
          entrypoint: [],
          cmd: ["python3", "main.py"],
          labels: {
            "berth.runtime": "python",
            "berth.entry": "main.py",
            "berth.command": "not json",
            "berth.protocol": "1",
            "org.example": "x",
          },
        },
      ],
    ]);
    const { log, lines } = logger();
    const catalog = new ImageCatalog(docker, log);
    for (let i = 0; i < 3; i++) {
      expect(await catalog.require("acme/py:1")).toMatchObject({
        image: "acme/py:1",
        labels: { runtime: "python", entry: "main.py", protocol: 1 },
      });
    }
    expect((await catalog.describe("acme/py:1"))?.labels.command).toBeUndefined();
    expect(await catalog.describe("gone:1")).toBeUndefined();
    log.flush();
    expect(lines()).toEqual([
      expect.objectContaining({ level: 40, image: "acme/py:1", label: "berth.command", reason: "not JSON" }),
    ]);
  });

  it("refuses an image whose SDK speaks a channel protocol berth does not, and one the engine lacks", async () => {
    const docker = new FakeDockerClient();
    docker.images = new Map([["acme/new:1", { entrypoint: [], cmd: [], labels: { "berth.protocol": "7" } }]]);
    const catalog = new ImageCatalog(docker);
    await expect(catalog.require("acme/new:1")).rejects.toMatchObject({
      code: "IMAGE_INCOMPATIBLE",
      details: { image: "acme/new:1", protocol: 7, supported: [1] },
      message: expect.stringContaining(
        "speaks channel protocol 7 (its berth.protocol label), and this server speaks 1",
      ),
    });
    await expect(catalog.require("acme/none:1")).rejects.toMatchObject({ code: "IMAGE_NOT_FOUND" });
  });

  it("warns of a runtime's image labelled for another runtime, or speaking another protocol", async () => {
    const docker = new FakeDockerClient();
    docker.images = new Map([
      [
        "acme/node:1",
        { entrypoint: [], cmd: [], labels: { "berth.runtime": "node", "berth.protocol": "2" } },
      ],
    ]);
    const { log, lines } = logger();
    await new ImageCatalog(docker).report(["acme/node:1"], log, { python: "acme/node:1" });
    log.flush();
    expect(lines()).toEqual([
      expect.objectContaining({ image: "acme/node:1", runtime: "python", imageRuntime: "node" }),
      expect.objectContaining({ image: "acme/node:1", protocol: 2, supported: 1 }),
    ]);
  });
});
