import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TOKENS, useTestServer } from "../helpers/test-server.ts";

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

  it("is the same for everyone and holds nothing of this server's owners or configuration", async () => {
    const [a, b] = await Promise.all([
      fetch(`${server.url}/asyncapi.json`).then((r) => r.text()),
      fetch(`${server.url}/asyncapi.json`, { headers: { authorization: `Bearer ${TOKENS.alice}` } }).then(
        (r) => r.text(),
      ),
    ]);
    expect(a).toBe(b);
    expect(JSON.parse(a)).toMatchObject({ asyncapi: "3.1.0", info: { title: "berth" } });
    for (const token of Object.values(TOKENS)) expect(a).not.toContain(token);
    expect(a).not.toContain("alice");
    expect(a).not.toContain(server.dataDir);
    expect(a).not.toContain(`:${new URL(server.url).port}`);
  });
});
