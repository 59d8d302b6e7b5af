import { mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeCrashLeftovers } from "./crash-leftovers.ts";

let root: string;
let codeDir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-leftovers-"));
  codeDir = join(root, "code", "C1");
  // A container's code directory as berth keeps it: two complete releases, the pointer on the second.
  for (const n of [1, 2]) {
    await mkdir(join(codeDir, "releases", String(n)), { recursive: true });
    await writeFile(join(codeDir, "releases", String(n), "index.js"), `release ${n}`);
  }
  await symlink("releases/2", join(codeDir, "current"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("removeCrashLeftovers", () => {
  it("removes a half-written release's staging directory and a pointer's temporary link, and names them", async () => {
    const staging = join(codeDir, "releases", "3.staging-4242-a1b2c3d4e5f6");
    await mkdir(join(staging, "lib"), { recursive: true });
    await writeFile(join(staging, "lib", "half.js"), "half written");
    await symlink("releases/3", join(codeDir, ".current-0123456789ab"));

    const removed = await removeCrashLeftovers(codeDir);

    expect(removed.sort()).toEqual([".current-0123456789ab", "3.staging-4242-a1b2c3d4e5f6"]);
    expect((await readdir(codeDir)).sort()).toEqual(["current", "releases"]);
    expect((await readdir(join(codeDir, "releases"))).sort()).toEqual(["1", "2"]);
  });

  it("leaves the releases, the pointer and anything else it does not know alone", async () => {
    await writeFile(join(codeDir, "notes.txt"), "kept");
    await mkdir(join(codeDir, "releases", "staging"));

    expect(await removeCrashLeftovers(codeDir)).toEqual([]);

    expect(await readlink(join(codeDir, "current"))).toBe("releases/2");
    expect(await readFile(join(codeDir, "releases", "1", "index.js"), "utf8")).toBe("release 1");
    expect((await readdir(join(codeDir, "releases"))).sort()).toEqual(["1", "2", "staging"]);
    expect(await readFile(join(codeDir, "notes.txt"), "utf8")).toBe("kept");
  });

  it("removes a temporary link without following it to the release it names", async () => {
    await symlink("releases/1", join(codeDir, ".current-ffffffffffff"));

    expect(await removeCrashLeftovers(codeDir)).toEqual([".current-ffffffffffff"]);

    expect(await readFile(join(codeDir, "releases", "1", "index.js"), "utf8")).toBe("release 1");
  });

  it("removes a staging directory's links without following them out of the code directory", async () => {
    // A workload's archive may hold symlinks; a staging directory cut half-way can hold them too.
    const outside = join(root, "outside.txt");
    await writeFile(outside, "not berth's to remove");
    const staging = join(codeDir, "releases", "3.staging-1-000000000000");
    await mkdir(staging);
    await symlink(outside, join(staging, "escape"));
    await symlink(root, join(staging, "escape-dir"));

    expect(await removeCrashLeftovers(codeDir)).toEqual(["3.staging-1-000000000000"]);

    expect(await readFile(outside, "utf8")).toBe("not berth's to remove");
  });

  it("finds nothing to remove in a code directory without releases, or with none at all", async () => {
    const empty = join(root, "code", "C2");
    await mkdir(empty, { recursive: true });
    expect(await removeCrashLeftovers(empty)).toEqual([]);
    expect(await removeCrashLeftovers(join(root, "code", "C404"))).toEqual([]);
  });
});
