import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cpuMs, cpuTime } from "../../test/helpers/cpu-time.ts";
import type { BerthError } from "../errors/berth-error.ts";
import type { ArchiveRejection } from "./archive-error.ts";
import type { CodeEntryList } from "./code-entry.ts";
import type { CodeLimits } from "./code-files.ts";
import { readCodeArchive } from "./read-code-archive.ts";
import {
  dir,
  file,
  gnuLong,
  hardLink,
  pax,
  symlink,
  tarArchive,
  tarGz,
  tarMember,
} from "./testing/tar-writer.ts";
import { writeReleaseEntries } from "./write-release-entries.ts";

const DEFAULTS: CodeLimits = { maxBytes: 8 * 1024 * 1024, maxFiles: 10_000 };

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-archive-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** What an update does: read, then write; a refused archive must leave nothing behind. */
async function upload(archive: Buffer, limits = DEFAULTS): Promise<CodeEntryList> {
  const entries = readCodeArchive(archive, limits);
  await writeReleaseEntries(join(root, "release"), entries);
  return entries;
}

async function expectRefused(
  archive: Buffer,
  reason: ArchiveRejection,
  entry: string | undefined,
  limits = DEFAULTS,
): Promise<BerthError> {
  const err = (await upload(archive, limits).then(
    () => expect.fail("the archive was accepted"),
    (e: unknown) => e,
  )) as BerthError;
  expect(err.code).toBe("VALIDATION_FAILED");
  expect(err.details).toMatchObject({ field: "code.archive", reason });
  expect(err.details?.entry).toBe(entry);
  expect(await readdir(root)).toEqual([]); // neither the release nor a staging directory
  return err;
}

describe("readCodeArchive refuses the whole archive", () => {
  it.each<[string, Buffer[], ArchiveRejection, string]>([
    [
      "a zip-slip path",
      [file("ok.txt", "1"), file("../../etc/cron.d/x", "* * * * * root sh")],
      "bad-path",
      "../../etc/cron.d/x",
    ],
    ["an absolute path", [file("/etc/passwd", "root::0:0::/:/bin/sh")], "bad-path", "/etc/passwd"],
    ["a backslash trick", [file("..\\x")], "bad-path", "..\\x"],
    ["a '.' segment beyond the one leading './'", [file("././a")], "bad-path", "././a"],
    ["an empty segment", [file("a//b")], "bad-path", "a//b"],
    ["a symlink to an absolute path", [symlink("etc", "/etc")], "symlink-escapes", "etc"],
    ["a symlink that climbs out", [dir("lib/"), symlink("lib/up", "../..")], "symlink-escapes", "lib/up"],
    [
      "a symlink that climbs out through another link",
      [symlink("d", "."), symlink("e", "d/../x")],
      "symlink-escapes",
      "e",
    ],
    ["a file written through a symlink", [symlink("a", "b/"), file("a/x", "1")], "through-symlink", "a/x"],
    [
      "a directory written through a symlink",
      [dir("src/"), symlink("lib", "src"), dir("lib/sub/")],
      "through-symlink",
      "lib/sub/",
    ],
    [
      "a symlink over a directory already filled",
      [file("a/x", "1"), symlink("a", "b")],
      "file-dir-conflict",
      "a",
    ],
    ["a hard link to /etc/passwd", [hardLink("passwd", "/etc/passwd")], "bad-hardlink", "passwd"],
    [
      "a hard link to a path not in the archive",
      [file("a", "1"), hardLink("b", "missing")],
      "bad-hardlink",
      "b",
    ],
    ["a hard link to a file that comes later", [hardLink("b", "a"), file("a", "1")], "bad-hardlink", "b"],
    ["a hard link to a symlink", [symlink("s", "a"), hardLink("b", "s")], "bad-hardlink", "b"],
    ["a character device", [tarMember({ name: "dev/null", type: "3" })], "unsupported-type", "dev/null"],
    ["a block device", [tarMember({ name: "sda", type: "4" })], "unsupported-type", "sda"],
    ["a FIFO", [tarMember({ name: "pipe", type: "6" })], "unsupported-type", "pipe"],
    ["a GNU sparse file", [tarMember({ name: "sparse", type: "S" })], "unsupported-type", "sparse"],
    ["a volume label", [tarMember({ name: "label", type: "V" })], "unsupported-type", "label"],
    ["a duplicate path", [file("a", "1"), file("a", "2")], "duplicate", "a"],
    ["a duplicate spelled with './'", [file("a", "1"), file("./a", "2")], "duplicate", "./a"],
    [
      "a path that is both a file and a directory",
      [file("a", "1"), file("a/b", "2")],
      "file-dir-conflict",
      "a/b",
    ],
    [
      "a pax header with a hostile path",
      [pax({ path: "../../etc/passwd" }), file("harmless.txt")],
      "bad-path",
      "../../etc/passwd",
    ],
    ["a pax header with a NUL in the path", [pax({ path: "a\u0000b" }), file("a")], "bad-path", "a\u0000b"],
    [
      "a pax linkpath that escapes",
      [pax({ linkpath: "/etc/shadow" }), symlink("s", "ok")],
      "symlink-escapes",
      "s",
    ],
    ["a pax sparse file", [pax({ "GNU.sparse.major": "1" }), file("s")], "unsupported-type", "s"],
    [
      "a malformed pax header",
      [tarMember({ name: "p", type: "x", data: "99 path=a\n" }), file("a")],
      "bad-header",
      "p",
    ],
    [
      "a GNU long name with '..'",
      [
        gnuLong(
          `${"deep/".repeat(30)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../x`,
        ),
        file("short"),
      ],
      "bad-path",
      `${"deep/".repeat(30)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../x`.slice(
        0,
        200,
      ),
    ],
    [
      "a GNU long link to /etc/passwd",
      [gnuLong("/etc/passwd", "K"), hardLink("p", "ok")],
      "bad-hardlink",
      "p",
    ],
    [
      "a header that declares more data than remains",
      [file("a", "1"), tarMember({ name: "big.bin", data: "x", size: 10 * 1024 ** 3 })],
      "truncated",
      "big.bin",
    ],
    [
      "an octal size just under 8 GiB",
      [tarMember({ name: "big.bin", size: 8 ** 11 - 1 })],
      "truncated",
      "big.bin",
    ],
    [
      "a bad header checksum",
      [file("a", "1"), tarMember({ name: "b.txt", data: "2", checksum: 1234 })],
      "bad-checksum",
      "b.txt",
    ],
    [
      "a name field with bytes after its NUL",
      [tarMember({ name: Buffer.from("evil\u0000../../x") })],
      "bad-path",
      "evil",
    ],
    [
      "a name that is not UTF-8",
      [tarMember({ name: Buffer.from([0x61, 0xff, 0x62]) })],
      "bad-path",
      "a\ufffdb",
    ],
    [
      "an invalid octal mode",
      [file("a"), tarMember({ name: "m", patch: (h) => h.write("0009999", 100, "latin1") })],
      "bad-header",
      "m",
    ],
    [
      "a negative base-256 size",
      [file("a"), tarMember({ name: "m", patch: (h) => h.fill(0xff, 124, 136) })],
      "bad-header",
      "m",
    ],
  ])("with %s", async (_, members, reason, entry) => {
    await expectRefused(tarArchive(members), reason, entry);
  });

  it("names the entry the same way when the archive is gzipped", async () => {
    await expectRefused(tarGz([file("../../etc/cron.d/x", "evil")]), "bad-path", "../../etc/cron.d/x");
  });

  it("truncates a long hostile name to 200 characters in the error", async () => {
    const name = `${"a".repeat(300)}/../x`;
    const err = await expectRefused(
      tarArchive([pax({ path: name }), file("x")]),
      "bad-path",
      name.slice(0, 200),
    );
    expect(err.message.length).toBeLessThan(400);
  });

  it("with too many files, naming the first one past the limit", async () => {
    const members = ["a", "b", "c", "d"].map((name) => file(name, "1"));
    await expectRefused(tarArchive(members), "too-many-files", "d", { maxBytes: 1000, maxFiles: 3 });
  });

  it("counts directories and links against the file limit", async () => {
    const members = [dir("a/"), dir("b/"), symlink("c", "a"), file("d")];
    await expectRefused(tarArchive(members), "too-many-files", "d", { maxBytes: 1000, maxFiles: 3 });
  });

  it("with more bytes than the limit, counted as read", async () => {
    const members = [file("a", "x".repeat(600)), file("b", "x".repeat(600))];
    await expectRefused(tarArchive(members), "too-large", "b", { maxBytes: 1000, maxFiles: 10 });
  });

  it("counts a hard link as a second copy of its target", async () => {
    const members = [file("a", "x".repeat(600)), hardLink("b", "a")];
    await expectRefused(tarArchive(members), "too-large", "b", { maxBytes: 1000, maxFiles: 10 });
  });

  it("with a gzip bomb, quickly and without inflating it all", async () => {
    const bomb = await gzipZeros(100 * 1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    // CPU time, not the wall clock, which a loaded machine stretches: inflating 100 MB costs far more.
    const { ms } = await cpuTime(() => expectRefused(bomb, "too-large", undefined));
    expect(ms).toBeLessThan(1000);
    // Inflation stops at the budget (about 28 MB at the defaults), far from 100 MB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it("with a plain tar larger than any archive within the limits", async () => {
    const members = [file("a", "1"), tarMember({ name: "pad", type: "g", data: Buffer.alloc(100_000) })];
    await expectRefused(tarArchive(members), "too-large", undefined, { maxBytes: 1000, maxFiles: 3 });
  });

  it("with a truncated gzip stream", async () => {
    const gz = tarGz([file("a", "x".repeat(5000)), file("b", "y".repeat(5000))]);
    await expectRefused(gz.subarray(0, gz.length >> 1), "gzip-truncated", undefined);
  });

  it("with a corrupt gzip stream", async () => {
    const gz = Buffer.from(tarGz([file("a", "hello")]));
    gz[gz.length - 6]! ^= 0xff; // inside the CRC-32 trailer
    await expectRefused(gz, "gzip-corrupt", undefined);
  });

  it("with a tar cut off in the middle of an entry", async () => {
    const tar = tarArchive([file("a", "x".repeat(2000))]);
    await expectRefused(tar.subarray(0, 1024), "truncated", "a");
  });

  it("with a tar that ends without its end-of-archive marker", async () => {
    await expectRefused(tarArchive([file("a", "1")], { end: false }), "truncated", undefined);
  });

  it("with extended headers that no entry follows", async () => {
    await expectRefused(tarArchive([file("a", "1"), pax({ path: "b" })]), "truncated", "b");
  });

  it("with data hidden after the end-of-archive marker", async () => {
    const tar = Buffer.concat([tarArchive([file("a", "1")]), tarArchive([file("hidden", "2")])]);
    await expectRefused(tar, "trailing-data", undefined);
  });

  it("with something that is not a tar at all", async () => {
    const zip = Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(2000, 7)]);
    await expectRefused(zip, "not-an-archive", undefined);
    await expectRefused(Buffer.alloc(0), "truncated", undefined);
  });
});

describe("readCodeArchive accepts", () => {
  it("a plain tar with nested directories and a leading './'", async () => {
    const entries = await upload(
      tarArchive([
        dir("./"),
        dir("./lib/"),
        dir("./lib/util/"),
        file("./lib/util/a.js", "a"),
        file("./index.js", "i"),
      ]),
    );
    expect(entries.map((e) => [e.kind, e.path])).toEqual([
      ["dir", "lib"],
      ["dir", "lib/util"],
      ["file", "lib/util/a.js"],
      ["file", "index.js"],
    ]);
  });

  it("directories listed after the files inside them", async () => {
    const entries = await upload(tarArchive([file("lib/a.js", "a"), dir("lib/")]));
    expect(entries.map((e) => e.kind)).toEqual(["file", "dir"]);
  });

  it("a tar.gz, keeping only whether a file is executable", async () => {
    const entries = await upload(tarGz([file("run.sh", "#!/bin/sh", 0o4750), file("data", "d", 0o600)]));
    expect(entries).toMatchObject([
      { path: "run.sh", kind: "file", mode: 0o755 },
      { path: "data", kind: "file", mode: 0o644 },
    ]);
  });

  it("an in-tree symlink, relative to its own directory", async () => {
    const entries = await upload(
      tarArchive([
        file("v1/app.js", "1"),
        dir("lib/"),
        symlink("lib/current", "../v1"),
        symlink("latest", "v1/"),
      ]),
    );
    expect(entries.filter((e) => e.kind === "symlink")).toEqual([
      { path: "lib/current", kind: "symlink", target: "../v1" },
      { path: "latest", kind: "symlink", target: "v1/" },
    ]);
  });

  it("a hard link, as a copy of the file it names", async () => {
    const entries = await upload(tarArchive([file("./a.sh", "echo", 0o755), hardLink("./b.sh", "./a.sh")]));
    expect(entries[1]).toMatchObject({ path: "b.sh", kind: "file", mode: 0o755 });
    expect(entries[1]?.kind === "file" && entries[1].content.toString()).toBe("echo");
  });

  it("pax and GNU long names, a ustar prefix, a V7 header and pax global headers", async () => {
    const long = `${"x".repeat(150)}/é-${"y".repeat(80)}.txt`;
    const entries = await upload(
      tarArchive([
        pax({ comment: "made by hand" }, "g"),
        pax({ path: long, mtime: "1700000000.5" }),
        file("truncated-name"),
        gnuLong(`${"z".repeat(120)}.js`),
        file("short"),
        tarMember({ name: "name.txt", prefix: "some/prefix" }),
        tarMember({ name: "old.txt", format: "v7" }),
      ]),
    );
    expect(entries.map((e) => e.path)).toEqual([
      long,
      `${"z".repeat(120)}.js`,
      "some/prefix/name.txt",
      "old.txt",
    ]);
  });

  it("an empty archive", async () => {
    expect(readCodeArchive(tarArchive([]), DEFAULTS)).toEqual([]);
  });

  it("8 MiB of 1,000 files in a tar.gz in well under 100 ms", () => {
    const content = Buffer.alloc(8000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 7919) % 251;
    const members = Array.from({ length: 1000 }, (_, i) => file(`src/mod${i % 20}/file-${i}.js`, content));
    const gz = tarGz(members);
    readCodeArchive(gz, DEFAULTS); // warm up
    // The best of three, in CPU time rather than on the wall clock, which a loaded machine stretches.
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      let read: readonly unknown[] = [];
      best = Math.min(
        best,
        cpuMs(() => {
          read = readCodeArchive(gz, DEFAULTS);
        }),
      );
      expect(read).toHaveLength(1000);
    }
    expect(best).toBeLessThan(100);
  });
});

/** 100 MB of zeros compress to about 100 KB; streamed so the test itself never holds 100 MB. */
async function gzipZeros(bytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const chunks: Buffer[] = [];
  gzip.on("data", (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve, reject) => gzip.on("end", resolve).on("error", reject));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < bytes; written += zeros.length) {
    if (!gzip.write(zeros)) await new Promise((resolve) => gzip.once("drain", resolve));
  }
  gzip.end();
  await done;
  return Buffer.concat(chunks);
}
