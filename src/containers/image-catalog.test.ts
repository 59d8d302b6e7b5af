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
    docker.images = new Map([["berth/runtime-node:24", { entrypoint: [], cmd: ["node", "/app/index.js"] }]]);
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
});
