import { describe, expect, it } from "vitest";
import { cpuMs, cpuTime } from "../../test/helpers/cpu-time.ts";
import type { ArchiveRejection } from "./archive-error.ts";
import { readCodeArchive } from "./read-code-archive.ts";
import { DEFAULT_LIMITS, gzipZeros, useArchiveUpload } from "./testing/archive-upload.ts";
import { dir, file, hardLink, pax, symlink, tarArchive, tarGz, tarMember } from "./testing/tar-writer.ts";

// What is inside an archive: paths, links, entry types, the tree, the limits.
// How the archive itself is framed (headers, pax, GNU long names, the end
// marker, gzip) is in read-code-archive.framing.test.ts.
const { upload, expectRefused } = useArchiveUpload();

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

  it("an empty archive", async () => {
    expect(readCodeArchive(tarArchive([]), DEFAULT_LIMITS)).toEqual([]);
  });

  it("8 MiB of 1,000 files in a tar.gz in well under 100 ms", () => {
    const content = Buffer.alloc(8000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 7919) % 251;
    const members = Array.from({ length: 1000 }, (_, i) => file(`src/mod${i % 20}/file-${i}.js`, content));
    const gz = tarGz(members);
    readCodeArchive(gz, DEFAULT_LIMITS); // warm up
    // The best of three, in CPU time rather than on the wall clock, which a loaded machine stretches.
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      let read: readonly unknown[] = [];
      best = Math.min(
        best,
        cpuMs(() => {
          read = readCodeArchive(gz, DEFAULT_LIMITS);
        }),
      );
      expect(read).toHaveLength(1000);
    }
    expect(best).toBeLessThan(100);
  });
});
