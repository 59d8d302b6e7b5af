import { describe, expect, it } from "vitest";
import type { CodeUpload } from "./read-code.ts";
import { readCode } from "./read-code.ts";
import { file, tarArchive } from "./testing/tar-writer.ts";

const limits = { maxBytes: 1000, maxFiles: 3 };

describe("readCode", () => {
  it("reads a files map, with the checks container creation applies", () => {
    expect(readCode({ files: { "a.js": "1", "lib/b.js": Buffer.from("2") } }, limits)).toEqual([
      { path: "a.js", kind: "file", content: Buffer.from("1"), mode: 0o644 },
      { path: "lib/b.js", kind: "file", content: Buffer.from("2"), mode: 0o644 },
    ]);
    expect(() => readCode({ files: { "../x": "1" } }, limits)).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED", details: { field: "code.files", path: "../x" } }),
    );
  });

  it("reads an archive", () => {
    expect(readCode({ archive: tarArchive([file("a.js", "1")]) }, limits)).toMatchObject([{ path: "a.js" }]);
  });

  it("refuses both forms at once, and neither", () => {
    const both = { files: { a: "1" }, archive: tarArchive([]) } as unknown as CodeUpload;
    expect(() => readCode(both, limits)).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED" }));
    expect(() => readCode({} as CodeUpload, limits)).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED" }),
    );
  });
});
