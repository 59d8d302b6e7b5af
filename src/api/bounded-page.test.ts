import { describe, expect, it } from "vitest";
import { boundedPage } from "./bounded-page.ts";

const item = (id: number, bytes: number) => ({ id, text: "x".repeat(bytes) });
const size = (items: unknown[]) => new TextEncoder().encode(JSON.stringify(items)).length;

describe("boundedPage", () => {
  it("keeps every item that fits", () => {
    const items = [item(1, 10), item(2, 10)];
    expect(boundedPage(items, "first", 1000)).toEqual({ items, cut: false });
    expect(boundedPage([], "last", 1000)).toEqual({ items: [], cut: false });
  });

  it("keeps the first items within the bytes, for a reader who pages on with the last id", () => {
    const items = Array.from({ length: 10 }, (_, i) => item(i + 1, 100));
    const page = boundedPage(items, "first", 500);
    expect(page.cut).toBe(true);
    expect(page.items.map((i) => i.id)).toEqual([1, 2, 3, 4]);
    expect(size(page.items)).toBeLessThanOrEqual(500);
  });

  it("keeps the last items within the bytes for the newest, oldest first", () => {
    const items = Array.from({ length: 10 }, (_, i) => item(i + 1, 100));
    const page = boundedPage(items, "last", 500);
    expect(page.items.map((i) => i.id)).toEqual([7, 8, 9, 10]);
    expect(size(page.items)).toBeLessThanOrEqual(500);
  });

  it("counts UTF-8 bytes", () => {
    const items = Array.from({ length: 4 }, (_, i) => ({ id: i, text: "é".repeat(100) })); // ~212 bytes each
    expect(boundedPage(items, "first", 500).items).toHaveLength(2);
  });

  it("keeps one item even when it alone is over, so that a reader following hasMore always moves", () => {
    const page = boundedPage([item(1, 2000), item(2, 10)], "first", 500);
    expect(page).toEqual({ items: [item(1, 2000)], cut: true });
  });
});
