import { execFileSync } from "node:child_process";
import {
  chmod,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCodeArchive } from "./read-code-archive.ts";
import { releaseStats } from "./release-stats.ts";
import { writeReleaseEntries } from "./write-release-entries.ts";

// Splittable into a ustar prefix and name, and past 100 bytes, so each format spells it its own way.
const LONG = `${"a".repeat(60)}/${"b".repeat(60)}/${"c".repeat(30)}.txt`;
const limits = { maxBytes: 1024 * 1024, maxFiles: 100 };

let work: string;
/** What every format must read as: the hash of the tree read from a GNU-format archive. */
let expectedHash: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-real-tar-"));
  const src = join(work, "src");
  await mkdir(join(src, "lib", "util"), { recursive: true });
  await mkdir(join(src, "bin"));
  await mkdir(join(src, "empty"));
  await mkdir(join(src, LONG, ".."), { recursive: true });
  await writeFile(join(src, "index.js"), "require('./lib/current/a.js')");
  await writeFile(join(src, "lib", "util", "a.js"), "module.exports = 1");
  await link(join(src, "lib", "util", "a.js"), join(src, "lib", "util", "b.js"));
  await symlink("util", join(src, "lib", "current"));
  await writeFile(join(src, "bin", "run.sh"), "#!/bin/sh\necho hi\n");
  await chmod(join(src, "bin", "run.sh"), 0o750);
  await writeFile(join(src, "héllo wörld.txt"), "unicode");
  await writeFile(join(src, LONG), "long");
  const reference = execFileSync("tar", ["--format=gnu", "-C", src, "-cf", "-", "."], { maxBuffer: 1 << 24 });
  expectedHash = releaseStats(readCodeArchive(reference, limits)).hash;
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("readCodeArchive reads archives made by GNU tar", () => {
  it.each([
    ["gnu", "x.tar", []],
    ["pax", "x.tar", []],
    ["ustar", "x.tar", []],
    ["gnu", "x.tar.gz", ["-z"]],
    ["pax", "x.tar.gz", ["-z"]],
  ])("in %s format as %s", async (format, name, flags) => {
    const archive = join(work, `${format}-${name}`);
    execFileSync("tar", [`--format=${format}`, ...flags, "-C", join(work, "src"), "-cf", archive, "."]);
    const entries = readCodeArchive(await readFile(archive), limits);
    const dir = join(work, `out-${format}-${name}`);
    await writeReleaseEntries(dir, entries);

    expect(await readFile(join(dir, "lib", "util", "b.js"), "utf8")).toBe("module.exports = 1");
    expect(await readlink(join(dir, "lib", "current"))).toBe("util");
    expect(await readFile(join(dir, "lib", "current", "a.js"), "utf8")).toBe("module.exports = 1");
    expect((await lstat(join(dir, "bin", "run.sh"))).mode & 0o777).toBe(0o755);
    expect((await lstat(join(dir, "index.js"))).mode & 0o777).toBe(0o644);
    expect((await lstat(join(dir, "empty"))).isDirectory()).toBe(true);
    expect(await readFile(join(dir, "héllo wörld.txt"), "utf8")).toBe("unicode");
    expect(await readFile(join(dir, LONG), "utf8")).toBe("long");
    // The hard link is a copy, not a link: a workload cannot change one through the other.
    expect((await lstat(join(dir, "lib", "util", "b.js"))).nlink).toBe(1);
    expect(releaseStats(entries)).toMatchObject({ files: 6, hash: expectedHash });
  });
});

describe("readCodeArchive reads archives made by git archive", () => {
  // git writes a pax global header carrying the commit id (`comment`) before the first member.
  it("with its pax global header", async () => {
    const repo = join(work, "repo");
    await mkdir(join(repo, "lib"), { recursive: true });
    await writeFile(join(repo, "index.js"), "require('./lib/a.js')");
    await writeFile(join(repo, "lib", "a.js"), "module.exports = 1");
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
        maxBuffer: 1 << 24,
      });
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "release");
    const tar = git("archive", "--format=tar", "HEAD");
    expect(String.fromCharCode(tar[156] ?? 0)).toBe("g"); // what this test is about
    for (const archive of [tar, git("archive", "--format=tar.gz", "HEAD")]) {
      expect(readCodeArchive(archive, limits).map((e) => [e.kind, e.path])).toEqual([
        ["file", "index.js"],
        ["dir", "lib"],
        ["file", "lib/a.js"],
      ]);
    }
  });
});
