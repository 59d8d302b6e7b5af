import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { useTestServer } from "../helpers/test-server.ts";

/** `GET /asyncapi.json`: the API document, the same as the committed docs/asyncapi.json, for anyone who asks. */
describe("GET /asyncapi.json", () => {
  const server = useTestServer();
  const committed = readFileSync(new URL("../../docs/asyncapi.json", import.meta.url), "utf8");

  it("serves the document that docs/asyncapi.json holds, as JSON", async () => {
    const res = await fetch(`${server.url}/asyncapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.text()).toBe(committed);
  });

  it("serves the same document twice, without a token (it holds nothing of any owner)", async () => {
    const [a, b] = await Promise.all([
      fetch(`${server.url}/asyncapi.json`).then((r) => r.json()),
      fetch(`${server.url}/asyncapi.json`).then((r) => r.json()),
    ]);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ asyncapi: "3.1.0", info: { title: "berth" } });
  });
});
