import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, type ServerToClientEvents } from "#protocol";
import { asyncApiJson, buildAsyncApiDocument } from "./asyncapi.ts";
import { RequestSchemas } from "./contract.ts";

/** Every pushed event of the contract, listed through its type: adding one there fails tsc here until it is added. */
const SERVER_EVENTS = {
  "container:resource_usage": true,
  "containers:resource_usage": true,
  "container:log": true,
  "container:message": true,
  "container:dropped": true,
  "container:health_changed": true,
  "container:status_changed": true,
  "container:progress": true,
  activity_log: true,
  "session:revoked": true,
} satisfies Record<keyof ServerToClientEvents, true>;

interface Doc {
  operations: Record<string, { action: string; messages: { $ref: string }[]; reply?: unknown }>;
  components: {
    messages: Record<string, { name: string }>;
    schemas: Record<string, { properties?: Record<string, { enum?: string[] }> }>;
  };
}

describe("the AsyncAPI document", () => {
  const doc = buildAsyncApiDocument() as unknown as Doc;

  // The parser validates the whole document against the AsyncAPI schema: seconds of CPU, more on a loaded machine.
  it("is a valid AsyncAPI 3 document", async () => {
    const { document, diagnostics } = await new Parser().parse(asyncApiJson());
    // Severity 0 is an error, 1 a warning: neither may stand.
    const errors = diagnostics.filter((d) => d.severity <= 1);
    expect(errors).toEqual([]);
    expect(document?.version()).toBe("3.1.0");
  }, 60_000);

  it("has a received operation with an acknowledgement for every client event of the contract", () => {
    const names = new Map(
      Object.entries(doc.operations).map(([key, op]) => [
        doc.components.messages[op.messages[0]!.$ref.split("/").at(-1)!]?.name,
        { key, op },
      ]),
    );
    for (const event of Object.keys(RequestSchemas)) {
      const found = names.get(event);
      expect(found, event).toBeDefined();
      expect(found?.op.action, event).toBe("receive");
      expect(found?.op.reply, event).toBeDefined();
    }
  });

  it("has a sent operation for every pushed event of the contract", () => {
    const sent = Object.values(doc.operations)
      .filter((op) => op.action === "send")
      .map((op) => doc.components.messages[op.messages[0]!.$ref.split("/").at(-1)!]?.name);
    expect(sent.sort()).toEqual(Object.keys(SERVER_EVENTS).sort());
  });

  it("lists every error code of the registry in the error envelope", () => {
    expect(doc.components.schemas.WireError?.properties?.code?.enum).toEqual(Object.keys(ERROR_CODES));
  });

  it("describes code files and archives as binary rather than as anything", () => {
    const create = JSON.stringify(doc.components.schemas["container.create.request"]);
    expect(create).toContain('"archive":{"type":"string","format":"binary"');
  });

  it("says what every refinement of the request schemas checks (zod itself leaves them out)", () => {
    const unexplained: string[] = [];
    buildAsyncApiDocument({ unexplained });
    expect(unexplained).toEqual([]);
    const spec = JSON.stringify(doc.components.schemas["container.create.request"]);
    expect(spec).toContain("Keys under berth.*, com.docker.*");
    expect(spec).toContain("nested at most 64 objects or arrays deep");
  });

  it("is what docs/asyncapi.json holds (run `npm run docs:asyncapi` after changing the contract)", () => {
    const committed = readFileSync(new URL("../../docs/asyncapi.json", import.meta.url), "utf8");
    expect(committed === asyncApiJson(), "docs/asyncapi.json is stale: run `npm run docs:asyncapi`").toBe(
      true,
    );
  });
});
