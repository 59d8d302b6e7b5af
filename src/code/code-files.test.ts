import { describe, expect, it } from "vitest";
import type { BerthError } from "../errors/berth-error.ts";
import { checkCodePath, validateCodeFiles } from "./code-files.ts";

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
});
