import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { ArchiveRejection } from "./archive-error.ts";
import { useArchiveUpload } from "./testing/archive-upload.ts";
import { file, gnuLong, hardLink, pax, symlink, tarArchive, tarGz, tarMember } from "./testing/tar-writer.ts";

// How an archive is framed: tar headers and their fields, pax and GNU
// extended headers, the end-of-archive marker, gzip. A reader that is lenient
// here reads different names or different members than `tar` would, so each
// case pins berth's strict reading (see the header of tar-reader.ts for why
// these are parsed by hand). About 300 lines because the corpus is one table:
// a case is easier to find and to add beside its kind than in a file of its own.
const { upload, expectRefused } = useArchiveUpload();

describe("readCodeArchive refuses an archive framed wrongly", () => {
  it.each<[string, Buffer[], ArchiveRejection, string]>([
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
    [
      "two pax headers in a row",
      [pax({ path: "safe.txt" }), pax({ path: "../evil" }), file("a")],
      "bad-header",
      "safe.txt",
    ],
    [
      "two GNU long names in a row",
      [gnuLong("safe.txt"), gnuLong("../evil"), file("a")],
      "bad-header",
      "safe.txt",
    ],
    [
      "two GNU long link targets in a row",
      [gnuLong("ok", "K"), gnuLong("/etc/passwd", "K"), symlink("s", "x")],
      "bad-header",
      "././@LongLink",
    ],
    [
      "an oversized pax header",
      [pax({ comment: "x".repeat(1024 * 1024) }), file("a")],
      "bad-header",
      "PaxHeaders/x",
    ],
    [
      "a GNU long name longer than any path",
      [gnuLong("a/".repeat(3000)), file("a")],
      "bad-path",
      "././@LongLink",
    ],
    ["a pax size that is not a number", [pax({ size: "12x" }), file("a")], "bad-header", "PaxHeaders/x"],
    // GNU tar reads these as an empty name or link target; the header's own field would be another reading.
    ["a pax header with an empty path", [pax({ path: "" }), file("a")], "bad-header", "PaxHeaders/x"],
    [
      "a pax header with an empty linkpath",
      [pax({ linkpath: "" }), symlink("s", "t")],
      "bad-header",
      "PaxHeaders/x",
    ],
    ["a pax header with an empty size", [pax({ size: "" }), file("a", "1")], "bad-header", "PaxHeaders/x"],
    // GNU tar applies these to every member after them; berth would have read the members' own.
    [
      "a pax global header that sets a path",
      [pax({ path: "x" }, "g"), file("a"), file("b")],
      "bad-header",
      "PaxHeaders/x",
    ],
    [
      "a pax global header that sets a size",
      [pax({ size: "1024" }, "g"), file("a", "1")],
      "bad-header",
      "PaxHeaders/x",
    ],
    [
      "a pax global header that sets a link",
      [pax({ linkpath: "t" }, "g"), symlink("s", "u")],
      "bad-header",
      "PaxHeaders/x",
    ],
    [
      "a malformed pax global header",
      [tarMember({ name: "g", type: "g", data: "99 path=a\n" }), file("a")],
      "bad-header",
      "g",
    ],
    [
      "a directory that declares data, which GNU tar would read as members",
      [tarMember({ name: "d/", type: "5", data: tarArchive([file("hidden", "x")]) }), file("a")],
      "bad-header",
      "d/",
    ],
    [
      "a directory given data by a pax size",
      [pax({ size: "1" }), tarMember({ name: "d/", type: "5", data: "x" })],
      "bad-header",
      "d/",
    ],
    ["a pax size beyond what remains", [pax({ size: "99999999999" }), file("a", "1")], "truncated", "a"],
    [
      "a pax path that is not UTF-8",
      [
        tarMember({ name: "PaxHeaders/x", type: "x", data: Buffer.from("11 path=a\xff\n", "latin1") }),
        file("a"),
      ],
      "bad-path",
      "PaxHeaders/x",
    ],
    ["a link name field with bytes after its NUL", [symlink("s", "ok\u0000../../x")], "bad-path", "s"],
    [
      "a ustar prefix with bytes after its NUL",
      [tarMember({ name: "n", prefix: "p\u0000/../x" })],
      "bad-path",
      "n",
    ],
    // Old tars marked directories by the trailing '/' alone; reading one as a directory would be a guess.
    ["a regular file named like a directory", [file("a/")], "bad-path", "a/"],
  ])("with %s", async (_, members, reason, entry) => {
    await expectRefused(tarArchive(members), reason, entry);
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

  it("with garbage after the gzip stream", async () => {
    await expectRefused(
      Buffer.concat([tarGz([file("a", "1")]), Buffer.from("garbage")]),
      "gzip-corrupt",
      undefined,
    );
  });

  it("with entries hidden in a second gzip member after the end-of-archive marker", async () => {
    const gz = Buffer.concat([tarGz([file("a", "1")]), tarGz([file("hidden", "2")])]);
    await expectRefused(gz, "trailing-data", undefined);
  });

  it("with something that is not a tar at all", async () => {
    const zip = Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(2000, 7)]);
    await expectRefused(zip, "not-an-archive", undefined);
    await expectRefused(Buffer.alloc(0), "truncated", undefined);
  });
});

describe("readCodeArchive accepts", () => {
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

  it("a header checksum summed over signed bytes, as old tars wrote it", async () => {
    const entries = await upload(tarArchive([withSignedChecksum(file("é.txt", "old"))]));
    expect(entries).toMatchObject([{ path: "é.txt", kind: "file" }]);
  });

  it("a pax size in place of the header's", async () => {
    const entries = await upload(
      tarArchive([pax({ size: "5" }), tarMember({ name: "a", size: 0, data: "hello" })]),
    );
    expect(entries[0]?.kind === "file" && entries[0].content.toString()).toBe("hello");
  });

  it("a tar.gz in several gzip members, as pigz or concatenation write it", async () => {
    const tar = tarArchive([file("a", "1"), file("b", "2")]);
    const gz = Buffer.concat([gzipSync(tar.subarray(0, 700)), gzipSync(tar.subarray(700))]);
    expect((await upload(gz)).map((e) => e.path)).toEqual(["a", "b"]);
  });
});

/** Old tars summed the header as signed chars, so a byte over 0x7f counts 256 less; GNU tar accepts both sums. */
function withSignedChecksum(member: Buffer): Buffer {
  const copy = Buffer.from(member);
  const header = copy.subarray(0, 512);
  const high = header.filter((byte) => byte >= 0x80).length;
  expect(high).toBeGreaterThan(0); // otherwise both sums are the same and the test proves nothing
  const unsigned = Number.parseInt(header.toString("latin1", 148, 154), 8);
  header.write(`${(unsigned - 256 * high).toString(8).padStart(6, "0")}\u0000 `, 148, 8, "latin1");
  return copy;
}
