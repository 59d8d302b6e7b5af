import { describe, expect, it } from "vitest";
import { mergeEntries, newestId } from "../src/activity/merge-entries.ts";
import { entry } from "./fake-client.ts";

const ids = (entries: { id: number }[]) => entries.map((e) => e.id);

describe("how the activity page merges what it is given", () => {
  it("orders entries newest first, whatever order they came in", () => {
    expect(ids(mergeEntries([], [entry(2), entry(5), entry(1)], 10))).toEqual([5, 2, 1]);
  });

  it("keeps each id once when a catch-up and the pushes overlap", () => {
    const held = mergeEntries([], [entry(4), entry(3)], 10);
    expect(ids(mergeEntries(held, [entry(3), entry(4), entry(5), entry(5)], 10))).toEqual([5, 4, 3]);
  });

  it("keeps the copy it already holds of an id given again", () => {
    const held = [entry(7, { message: "first" })];
    expect(mergeEntries(held, [entry(7, { message: "again" })], 10)[0]!.message).toBe("first");
  });

  it("keeps only the newest `keep`", () => {
    expect(ids(mergeEntries([entry(1), entry(2)], [entry(3), entry(4)], 3))).toEqual([4, 3, 2]);
    expect(mergeEntries([entry(1)], [], 0)).toEqual([]);
  });

  it("leaves what it holds unchanged", () => {
    const held = [entry(2), entry(1)];
    mergeEntries(held, [entry(3)], 1);
    expect(ids(held)).toEqual([2, 1]);
  });

  it("names the newest id held, or none", () => {
    expect(newestId(mergeEntries([], [entry(9), entry(11)], 5))).toBe(11);
    expect(newestId([])).toBeUndefined();
  });
});
