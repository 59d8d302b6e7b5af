import { describe, expect, it } from "vitest";
import { addNewest, emptyList } from "../src/console/bounded-list.ts";

describe("the console's bounded list of messages", () => {
  it("keeps the newest first", () => {
    let list = emptyList<number>();
    for (const n of [1, 2, 3]) list = addNewest(list, n, 10);
    expect(list).toEqual({ items: [3, 2, 1], dropped: 0 });
  });

  it("keeps at most its bound, letting the oldest go and counting them", () => {
    let list = emptyList<number>();
    for (let n = 1; n <= 250; n++) list = addNewest(list, n, 100);
    expect(list.items).toHaveLength(100);
    expect(list.items[0]).toBe(250);
    expect(list.items.at(-1)).toBe(151);
    expect(list.dropped).toBe(150);
  });

  it("leaves the list it was given as it was", () => {
    const before = addNewest(emptyList<string>(), "a", 1);
    const after = addNewest(before, "b", 1);
    expect(before).toEqual({ items: ["a"], dropped: 0 });
    expect(after).toEqual({ items: ["b"], dropped: 1 });
  });
});
