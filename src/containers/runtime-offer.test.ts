import { describe, expect, it } from "vitest";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { ImageCatalog } from "./image-catalog.ts";
import { describeRuntimes } from "./runtime-offer.ts";

const IMAGES = { node: "berth/runtime-node:24", python: "berth/runtime-python:3.11" };

describe("the runtimes server:info offers", () => {
  it("read each runtime's entry file and command from its image, and whether the engine has it", async () => {
    const docker = new FakeDockerClient();
    docker.images = new Map([
      [
        IMAGES.node,
        {
          entrypoint: [],
          cmd: ["node", "index.js"],
          labels: {
            "berth.runtime": "node",
            "berth.entry": "index.js",
            "berth.command": '["node","index.js"]',
          },
        },
      ],
    ]);
    expect(await describeRuntimes(new ImageCatalog(docker), IMAGES)).toEqual([
      { name: "node", image: IMAGES.node, entry: "index.js", command: ["node", "index.js"], available: true },
      { name: "python", image: IMAGES.python, entry: null, command: null, available: false },
    ]);
  });

  it("say 'unknown' (null) rather than fail while the engine cannot be asked", async () => {
    const docker = new FakeDockerClient();
    docker.down = true;
    const runtimes = await describeRuntimes(new ImageCatalog(docker), IMAGES);
    expect(runtimes.map((r) => r.available)).toEqual([null, null]);
    const never = { describe: () => new Promise<never>(() => {}) };
    const started = Date.now();
    expect((await describeRuntimes(never, IMAGES)).map((r) => r.available)).toEqual([null, null]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
