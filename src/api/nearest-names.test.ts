import { describe, expect, it } from "vitest";
import { RequestSchemas } from "./contract.ts";
import { editDistance, nearestNames } from "./nearest-names.ts";

describe("nearest names", () => {
  it("counts insertions, deletions and substitutions", () => {
    expect(editDistance("", "")).toBe(0);
    expect(editDistance("abc", "")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("container:creat", "container:create")).toBe(1);
  });

  it("puts the closest of berth's events first", () => {
    const events = Object.keys(RequestSchemas);
    expect(nearestNames("container:creat", events, 3)[0]).toBe("container:create");
    expect(nearestNames("container:stat", events, 2)).toEqual(["container:start", "container:stats"]);
    expect(nearestNames("containers:list", events, 1)).toEqual(["container:list"]);
    expect(nearestNames("x", [], 3)).toEqual([]);
  });
});
