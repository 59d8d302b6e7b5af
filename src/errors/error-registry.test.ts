import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "#protocol";
import { CLIENT_ERROR_CODES } from "../../packages/client/src/client-error-codes.ts";

const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
const [serverPart, clientPart = ""] = doc.split(/^## Errors of the client SDK$/m);

/** The rows `| \`CODE\` | category | yes/no |` of one part of docs/errors.md. */
function rowsOf(text: string) {
  return [...text.matchAll(/^\| `([A-Z_]+)` \| (\w+) \| (yes|no) \|/gm)].map((m) => ({
    code: m[1],
    category: m[2],
    retryable: m[3] === "yes",
  }));
}

function entriesOf(registry: Record<string, { category: string; retryable: boolean }>) {
  return Object.entries(registry).map(([code, d]) => ({
    code,
    category: d.category,
    retryable: d.retryable,
  }));
}

describe("the error registry", () => {
  it("matches the table in docs/errors.md, code for code", () => {
    expect(rowsOf(serverPart ?? "")).toEqual(entriesOf(ERROR_CODES));
  });

  it("documents the client SDK's own codes in their own table", () => {
    expect(rowsOf(clientPart)).toEqual(entriesOf(CLIENT_ERROR_CODES));
  });
});
