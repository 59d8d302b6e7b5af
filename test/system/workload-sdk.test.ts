import { beforeAll, describe, expect, it } from "vitest";
import { type Client, call, ok, useTestServer } from "../helpers/test-server.ts";

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
    const { id } = await ok(alice, "container:create", {
      name: "sdk-cjs",
      code: { files: { "index.js": commonjs } },
    });
    expect(await ok(alice, "container:request", { id, data: { n: 1 } })).toEqual({
      style: "require",
      echo: { n: 1 },
    });
    expect(await call(alice, "container:request", { id, data: { fail: "no" } })).toMatchObject({
      ok: false,
      error: { code: "WORKLOAD_ERROR", details: { message: "refused: no", code: "E_REFUSED" } },
    });
    await ok(alice, "container:subscribe", { id });
    const got = new Promise((resolve) => alice.once("container:message", resolve));
    await ok(alice, "container:send", { id, data: "hi" });
    expect(await got).toMatchObject({ id, data: { got: "hi" } });
  });

  it("serves requests from an ES module workload", async () => {
    const { id } = await ok(alice, "container:create", {
      name: "sdk-esm",
      command: ["node", "/app/index.mjs"],
      code: { files: { "index.mjs": esm } },
    });
    expect(await ok(alice, "container:request", { id, data: "x" })).toEqual({ style: "import", echo: "x" });
  });
});
