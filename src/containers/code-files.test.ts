import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BerthError } from "../errors/berth-error.ts";
import { checkCodePath, validateCodeFiles, writeRelease } from "./code-files.ts";

const limits = { maxBytes: 1000, maxFiles: 3 };

describe("code files", () => {
  it.each([
    ["../x", "contains '..'"],
    ["a/../../x", "contains '..'"],
    ["/etc/passwd", "is absolute"],
    ["C:/x", "is absolute"],
    ["a\\..\\x", "contains a backslash"],
    ["a\0b", "contains a NUL byte"],
    ["a//b", "has an empty or '.' segment"],
    ["./a", "has an empty or '.' segment"],
    ["", "is empty"],
  ])("refuses the path %j", (path, problem) => {
    expect(checkCodePath(path)).toBe(problem);
  });

  it("accepts ordinary relative paths", () => {
    expect(checkCodePath("index.js")).toBeUndefined();
    expect(checkCodePath("lib/util/a.b-c_d.js")).toBeUndefined();
  });

  it("refuses too many files, too many bytes, and a path that is both file and directory", () => {
    const fail = (files: Record<string, string>) => {
      try {
        validateCodeFiles(files, limits);
      } catch (err) {
        return (err as BerthError).code;
      }
      return "accepted";
    };
    expect(fail({ a: "", b: "", c: "", d: "" })).toBe("VALIDATION_FAILED");
    expect(fail({ a: "x".repeat(1001) })).toBe("VALIDATION_FAILED");
    expect(fail({ a: "1", "a/b": "2" })).toBe("VALIDATION_FAILED");
    expect(fail({ a: "1", "b/c": "2" })).toBe("accepted");
  });

  it("writes a release all at once, with files readable by the workload", async () => {
    const root = await mkdtemp(join(tmpdir(), "code-"));
    try {
      const entries = validateCodeFiles({ "index.js": "1", "lib/a.js": Buffer.from([0, 1, 2]) }, limits);
      await writeRelease(join(root, "1"), entries);
      expect(await readdir(root)).toEqual(["1"]); // no staging directory left behind
      expect(await readFile(join(root, "1", "index.js"), "utf8")).toBe("1");
      expect([...(await readFile(join(root, "1", "lib", "a.js")))]).toEqual([0, 1, 2]);
      expect((await stat(join(root, "1", "index.js"))).mode & 0o777).toBe(0o644);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
