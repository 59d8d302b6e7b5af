import { describe, expect, it } from "vitest";
import { checkSymlinkTarget } from "./symlink-target.ts";

describe("checkSymlinkTarget", () => {
  it.each([
    ["link", "target"],
    ["link", "dir/"],
    ["link", "./target"],
    ["link", "."],
    ["a/link", ".."],
    ["a/link", "../b/c"],
    ["a/b/link", "../../c"],
    ["a/b/link", "../.."],
  ])("lets %j point at %j", (link, target) => {
    expect(checkSymlinkTarget(link, target)).toBeUndefined();
  });

  it.each([
    ["link", "/etc", "is absolute"],
    ["link", "", "is empty"],
    ["link", "..", "points outside the release"],
    ["a/link", "../../x", "points outside the release"],
    ["a/b/link", "../../../etc/passwd", "points outside the release"],
    ["link", "d/../x", "has a '..' after a name (it could climb out through another link)"],
    ["link", "..\\..\\x", "contains a backslash"],
    ["link", "a\u0000b", "contains a NUL byte"],
    ["link", "C:/x", "is absolute"],
    ["link", "a//b", "has an empty or '.' segment"],
    ["link", "a/./b", "has an empty or '.' segment"],
  ])("refuses %j pointing at %j: it %s", (link, target, problem) => {
    expect(checkSymlinkTarget(link, target)).toBe(problem);
  });
});
