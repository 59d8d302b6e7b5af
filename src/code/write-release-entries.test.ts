import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BerthError } from "../errors/berth-error.ts";
import type { CodeEntry } from "./code-entry.ts";
import { writeReleaseEntries } from "./write-release-entries.ts";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-write-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const file = (path: string, content: string, mode: 0o644 | 0o755 = 0o644): CodeEntry => ({
  path,
  kind: "file",
  content: Buffer.from(content),
  mode,
});

describe("writeReleaseEntries", () => {
  it("writes directories, files and symlinks with fixed modes, whatever the umask", async () => {
    const umask = process.umask(0o077);
    try {
      await writeReleaseEntries(join(root, "releases", "2"), [
        { path: "empty", kind: "dir" },
        file("lib/a.js", "a"),
        file("bin/run", "#!/bin/sh", 0o755),
        { path: "lib/current", kind: "symlink", target: "../bin" },
      ]);
    } finally {
      process.umask(umask);
    }
    const dir = join(root, "releases", "2");
    expect(await readdir(join(root, "releases"))).toEqual(["2"]); // no staging directory left behind
    expect((await lstat(dir)).mode & 0o777).toBe(0o755);
    expect((await lstat(join(root, "releases"))).mode & 0o777).toBe(0o755);
    expect((await lstat(join(dir, "empty"))).mode & 0o777).toBe(0o755);
    expect((await lstat(join(dir, "lib"))).mode & 0o777).toBe(0o755);
    expect((await lstat(join(dir, "lib", "a.js"))).mode & 0o777).toBe(0o644);
    expect((await lstat(join(dir, "bin", "run"))).mode & 0o777).toBe(0o755);
    expect((await lstat(join(dir, "lib", "current"))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, "lib", "current"))).toBe("../bin");
    expect(await readFile(join(dir, "lib", "current", "run"), "utf8")).toBe("#!/bin/sh");
  });

  it("never writes through a symlink, even when handed entries nobody checked", async () => {
    // Were the link made first, x would land in b; links come last, so the link itself fails instead.
    const entries: CodeEntry[] = [
      { path: "a", kind: "symlink", target: "b" },
      { path: "b", kind: "dir" },
      file("a/x", "1"),
    ];
    await expect(writeReleaseEntries(join(root, "release"), entries)).rejects.toMatchObject({
      code: "EEXIST",
    });
    expect(await readdir(root)).toEqual([]);
  });

  it("refuses a symlink out of the release, even when handed entries nobody checked", async () => {
    const entries: CodeEntry[] = [{ path: "a", kind: "symlink", target: "../outside" }];
    await expect(writeReleaseEntries(join(root, "release"), entries)).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    expect(await readdir(root)).toEqual([]);
  });

  it("refuses a path that would leave the staging directory, writing nothing", async () => {
    const err = await writeReleaseEntries(join(root, "release"), [file("../escaped", "1")]).catch(
      (e: BerthError) => e,
    );
    expect(err).toMatchObject({ code: "VALIDATION_FAILED", details: { field: "code", path: "../escaped" } });
    expect(await readdir(root)).toEqual([]);
  });

  it("removes the staging directory and rethrows when a write fails half-way", async () => {
    const err = await writeReleaseEntries(join(root, "release"), [
      file("a", "1"),
      file("b", "2"),
      file("a", "3"),
    ]).catch((e: NodeJS.ErrnoException) => e);
    expect(err).toMatchObject({ code: "EEXIST" });
    expect(await readdir(root)).toEqual([]);
  });

  it("leaves an existing release alone when the rename cannot replace it", async () => {
    await mkdir(join(root, "release"));
    await writeFile(join(root, "release", "old.js"), "old");
    await expect(writeReleaseEntries(join(root, "release"), [file("new.js", "new")])).rejects.toMatchObject({
      code: "ENOTEMPTY",
    });
    expect(await readdir(root)).toEqual(["release"]);
    expect(await readdir(join(root, "release"))).toEqual(["old.js"]);
  });
});
