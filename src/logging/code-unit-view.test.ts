import { describe, expect, it } from "vitest";
import { codeUnitView, inView } from "./code-unit-view.ts";

const graphemes = (text: string) => [
  ...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text),
];

describe("codeUnitView", () => {
  it("returns plain ASCII as it is", () => {
    const view = codeUnitView("plain ascii\tline\n");
    expect(view.text).toBe("plain ascii\tline\n");
    expect(view.toOriginal(5)).toBe(5);
  });

  it("makes every code unit a grapheme cluster of its own, whatever follows or precedes it", () => {
    const text = "e\u0301 \u200dx\u200d \r\n 🇫🇷 👩‍💻 \ud800 \uffff 한";
    const view = codeUnitView(text);
    expect(graphemes(view.text)).toHaveLength(text.length);
  });

  it("maps every view offset back to the original", () => {
    const text = "ab\u00e9c\r\nd😀e";
    const view = codeUnitView(text);
    const starts = graphemes(view.text).map((g) => view.toOriginal(g.index));
    expect(starts).toEqual([...Array(text.length).keys()]);
    expect(view.toOriginal(view.text.length)).toBe(text.length);
  });

  it("rewrites patterns the same way, so a pattern is found in a view where it is in the text", () => {
    const text = "x caf\u00e9\u0301 y";
    expect(codeUnitView(text).text).toContain(inView("caf\u00e9"));
  });
});
