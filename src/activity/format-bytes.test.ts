import { describe, expect, it } from "vitest";
import { bytes } from "./format-bytes.ts";

describe("bytes", () => {
  it("shows binary units, one decimal below 10", () => {
    expect([300, 1536, 10 * 1024, 4.8 * 1024 ** 2, 64 * 1024 ** 2, 3 * 1024 ** 3].map(bytes)).toEqual([
      "300 B",
      "1.5 KiB",
      "10 KiB",
      "4.8 MiB",
      "64 MiB",
      "3 GiB",
    ]);
  });
});
