import { describe, expect, it } from "vitest";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { ImageCatalog } from "./image-catalog.ts";
import { describeRuntimes, RuntimeOffer } from "./runtime-offer.ts";

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
    // It gives up after 1.5 s rather than wait for ever; the margin is for a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("leave out a runtime the operator turned off", async () => {
    const docker = new FakeDockerClient();
    const runtimes = await describeRuntimes(new ImageCatalog(docker), { node: IMAGES.node });
    expect(runtimes.map((r) => r.name)).toEqual(["node"]);
    expect(docker.calls.map((c) => c.arg)).toEqual([IMAGES.node]);
  });
});

describe("the runtimes server:info offers, asked by many", () => {
  const inspects = (docker: FakeDockerClient) => docker.calls.filter((c) => c.method === "inspectImage");

  it("cost at most one engine call per runtime image, however many ask at once", async () => {
    const docker = new FakeDockerClient();
    const offer = new RuntimeOffer(new ImageCatalog(docker), IMAGES);
    const answers = await Promise.all(Array.from({ length: 100 }, () => offer.runtimes()));
    expect(inspects(docker).map((c) => c.arg)).toEqual([IMAGES.node, IMAGES.python]);
    expect(new Set(answers).size).toBe(1);
    // And again for a while after: the reading is fresh.
    await Promise.all(Array.from({ length: 100 }, () => offer.runtimes()));
    expect(inspects(docker)).toHaveLength(2);
  });

  it("read the engine again once the reading is stale, or at once when the engine came back", async () => {
    const docker = new FakeDockerClient();
    let now = 1_000_000;
    const offer = new RuntimeOffer(new ImageCatalog(docker), IMAGES, { freshMs: 5_000, now: () => now });
    await offer.runtimes();
    now += 4_999;
    await offer.runtimes();
    expect(inspects(docker)).toHaveLength(2);
    now += 1;
    await offer.runtimes();
    expect(inspects(docker)).toHaveLength(4);
    offer.invalidate();
    docker.images = new Map();
    expect((await offer.runtimes()).map((r) => r.available)).toEqual([false, false]);
    expect(inspects(docker)).toHaveLength(6);
  });
});
