import { beforeAll, describe, expect, it } from "vitest";
import type { ContainerMessageEvent } from "#protocol";
import { type Client, useTestServer } from "../helpers/test-server.ts";

/** Workloads written against @berth/workload, as found in the runtime image, through `require` and `import`. */
const commonjs = `
const { connect } = require("@berth/workload");
const berth = connect({ meta: { style: "require" } });
berth.onRequest(async (data) => {
  if (data?.fail) throw Object.assign(new Error("refused: " + data.fail), { code: "E_REFUSED" });
  return { style: "require", echo: data };
});
berth.onMessage((data) => berth.send({ got: data }));
`;
const esm = `
import { connect } from "@berth/workload";
const berth = connect({ meta: { style: "import" } });
berth.onRequest((data) => ({ style: "import", echo: data }));
`;

describe("the workload SDK inside the runtime image", () => {
  const server = useTestServer();
  let alice: Client;

  beforeAll(async () => {
    alice = await server.connect("alice");
  });

  it("serves requests, errors and messages from a CommonJS workload", async () => {
    const bot = await alice.containers.create({
      name: "sdk-cjs",
      code: { files: { "index.js": commonjs } },
    });
    try {
      expect(await bot.request({ n: 1 })).toEqual({ style: "require", echo: { n: 1 } });
      await expect(bot.request({ fail: "no" })).rejects.toMatchObject({
        code: "WORKLOAD_ERROR",
        details: { message: "refused: no", code: "E_REFUSED" },
      });
      const { promise: got, resolve } = Promise.withResolvers<ContainerMessageEvent>();
      const off = bot.onMessage((_data, event) => resolve(event));
      await off.ready;
      await bot.send("hi");
      expect(await got).toMatchObject({ id: bot.id, data: { got: "hi" } });
      off();
    } finally {
      await bot.delete();
    }
  });

  it("serves requests from an ES module workload", async () => {
    const bot = await alice.containers.create({
      name: "sdk-esm",
      command: ["node", "/app/index.mjs"],
      code: { files: { "index.mjs": esm } },
    });
    try {
      expect(await bot.request("x")).toEqual({ style: "import", echo: "x" });
    } finally {
      await bot.delete();
    }
  });
});
