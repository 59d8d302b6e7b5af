import { mkdir, mkdtemp, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { currentRelease, switchRelease } from "./release-pointer.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-pointer-"));
  await mkdir(join(dir, "releases", "1"), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("switchRelease", () => {
  it("points `current` at a release that is there", async () => {
    await switchRelease(dir, 1);
    expect(await readlink(join(dir, "current"))).toBe("releases/1");
    expect(await currentRelease(dir)).toBe(1);
  });

  it("refuses a release that is not there, and leaves the pointer as it was (no workload started with no code)", async () => {
    await switchRelease(dir, 1);
    await expect(switchRelease(dir, 2)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await currentRelease(dir)).toBe(1);
  });
});
