import { describe, expect, it } from "vitest";
import { entryFileOf, requireEntryFile } from "./entry-file.ts";

const file = (path: string) => ({
  path,
  kind: "file" as const,
  content: Buffer.from("1"),
  mode: 0o644 as const,
});

describe("the entry file of an image's default command", () => {
  it("is the first argument under /app/, from the entrypoint then the command", () => {
    expect(entryFileOf({ entrypoint: [], cmd: ["node", "/app/index.js"] })).toBe("index.js");
    expect(entryFileOf({ entrypoint: ["python3"], cmd: ["/app/bot/main.py", "--x"] })).toBe("bot/main.py");
    expect(entryFileOf({ entrypoint: ["/usr/bin/tini", "--"], cmd: ["sh", "-c", "node /app/x.js"] })).toBe(
      undefined,
    );
    expect(entryFileOf({ entrypoint: [], cmd: [] })).toBe(undefined);
    expect(entryFileOf({ entrypoint: [], cmd: ["node", "/app/"] })).toBe(undefined);
  });

  it("must be in the code, as a file or a link, and is named when it is not", () => {
    const facts = { entrypoint: [], cmd: ["node", "/app/index.js"] };
    expect(() => requireEntryFile([file("index.js")], facts, "img")).not.toThrow();
    expect(() =>
      requireEntryFile([{ path: "index.js", kind: "symlink", target: "dist/index.js" }], facts, "img"),
    ).not.toThrow();
    expect(() => requireEntryFile([{ path: "index.js", kind: "dir" }], facts, "img")).toThrow(
      /The code has no 'index.js', which the image img runs by default \(node \/app\/index.js\)/,
    );
    expect(() => requireEntryFile([file("src/index.js")], facts, "img")).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED", details: { field: "code", missing: "index.js" } }),
    );
    expect(() => requireEntryFile([], { entrypoint: ["/bin/app"], cmd: [] }, "img")).not.toThrow();
  });
});
