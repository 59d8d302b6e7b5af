import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "#protocol";

describe("the error registry", () => {
  it("matches the table in docs/errors.md, code for code", () => {
    const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\w+) \| (yes|no) \|/gm)].map((m) => ({
      code: m[1],
      category: m[2],
      retryable: m[3] === "yes",
    }));
    const registry = Object.entries(ERROR_CODES).map(([code, d]) => ({
      code,
      category: d.category,
      retryable: d.retryable,
    }));
    expect(rows).toEqual(registry);
  });
});
