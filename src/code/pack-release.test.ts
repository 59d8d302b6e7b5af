import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CodeEntry, CodeEntryList } from "./code-entry.ts";
import { codeFromFiles } from "./code-from-files.ts";
import { packRelease } from "./pack-release.ts";
import { readCodeArchive } from "./read-code-archive.ts";
import { RELEASE_DIGEST, releaseDigest } from "./release-digest.ts";
import { rawPackedRelease } from "./testing/raw-packed-release.ts";
import { dir, file, symlink, tarGz } from "./testing/tar-writer.ts";
import { unpackRelease } from "./unpack-release.ts";

const limits = { maxBytes: 10_000, maxFiles: 50 };

/** A release with one of everything: nested files of both modes, a symlink, an empty directory. */
const sample = (): CodeEntryList =>
  readCodeArchive(
    tarGz([
      dir("./"),
      dir("./lib/"),
      file("./lib/util.js", "export const x = 1;\n"),
      file("./bin/run", "#!/bin/sh\nexec node index.js\n", 0o755),
      file("./index.js", "console.log('hi')\n"),
      symlink("./main.js", "index.js"),
      dir("./empty/"),
      file("./data.bin", Buffer.from([0, 1, 2, 255])),
    ]),
    limits,
  );

describe("packRelease", () => {
  it("names the bytes by their sha256", () => {
    const { bytes, digest } = packRelease(sample());
    expect(digest).toMatch(RELEASE_DIGEST);
    expect(digest).toBe(`sha256:${createHash("sha256").update(bytes).digest("hex")}`);
    expect(releaseDigest(bytes)).toBe(digest);
  });

  it("unpacks to the same tree: every entry, sorted by path, with implied directories left out", () => {
    const unpacked = unpackRelease(packRelease(sample()).bytes, limits);
    expect(unpacked).toEqual([
      { path: "bin/run", kind: "file", mode: 0o755, content: Buffer.from("#!/bin/sh\nexec node index.js\n") },
      { path: "data.bin", kind: "file", mode: 0o644, content: Buffer.from([0, 1, 2, 255]) },
      { path: "empty", kind: "dir" },
      { path: "index.js", kind: "file", mode: 0o644, content: Buffer.from("console.log('hi')\n") },
      { path: "lib/util.js", kind: "file", mode: 0o644, content: Buffer.from("export const x = 1;\n") },
      { path: "main.js", kind: "symlink", target: "index.js" },
    ]);
    // And packs again to the very same bytes.
    expect(packRelease(unpacked).bytes).toEqual(packRelease(sample()).bytes);
  });

  it("gives the same bytes for the same entries in any order", () => {
    const entries = [...sample()];
    const expected = packRelease(entries);
    expect(packRelease(entries.toReversed())).toEqual(expected);
    const shuffled = [entries[3], entries[0], entries[6], entries[1], entries[5], entries[2], entries[4]];
    expect(packRelease(shuffled.filter((e): e is CodeEntry => e !== undefined))).toEqual(expected);
  });

  it("gives an archive that lists its directories the digest of a files map that implies them", () => {
    const fromFiles = codeFromFiles({ "index.js": "i", "lib/a.js": "a" }, limits);
    const fromArchive = readCodeArchive(
      tarGz([dir("./"), dir("./lib/"), file("./lib/a.js", "a"), file("./index.js", "i")]),
      limits,
    );
    expect(packRelease(fromArchive).digest).toBe(packRelease(fromFiles).digest);
  });

  it("sorts by the paths' UTF-8 bytes, not by JavaScript's UTF-16 order", () => {
    // U+FF5E is EF BD 9E in UTF-8 and U+1F600 is F0 9F 98 80: by bytes U+FF5E comes first, but in
    // UTF-16 U+1F600 (D83D DE00) sorts before U+FF5E.
    const entries = codeFromFiles({ "\u{1F600}": "a", "\uFF5E": "b" }, limits);
    const paths = unpackRelease(packRelease(entries).bytes, limits).map((e) => e.path);
    expect(paths).toEqual(["\uFF5E", "\u{1F600}"]);
    expect("\u{1F600}" < "\uFF5E").toBe(true); // the order a plain sort would have given
  });

  it("gives another digest for one changed byte, mode, target or kind", () => {
    const base = packRelease(codeFromFiles({ "a.js": "hello", "b/c.js": "x" }, limits)).digest;
    const variants: CodeEntry[][] = [
      [...codeFromFiles({ "a.js": "hellp", "b/c.js": "x" }, limits)],
      [...codeFromFiles({ "a.js": "hello", "b/d.js": "x" }, limits)],
      [...codeFromFiles({ "a.js": "hello", "b/c.js": "x", "e.js": "" }, limits)],
      [
        { path: "a.js", kind: "file", mode: 0o755, content: Buffer.from("hello") },
        ...codeFromFiles({ "b/c.js": "x" }, limits),
      ],
      [{ path: "a.js", kind: "symlink", target: "b/c.js" }, ...codeFromFiles({ "b/c.js": "x" }, limits)],
      [...codeFromFiles({ "a.js": "hello", "b/c.js": "x" }, limits), { path: "d", kind: "dir" }],
    ];
    const digests = variants.map((v) => packRelease(v).digest);
    expect(new Set([base, ...digests]).size).toBe(variants.length + 1);
  });

  it("packs an empty release to a header alone, and unpacks it to nothing", () => {
    const { bytes } = packRelease([]);
    expect(bytes).toEqual(rawPackedRelease([]));
    expect(unpackRelease(bytes, limits)).toEqual([]);
  });

  it("writes the documented format, byte for byte", () => {
    const { bytes } = packRelease([
      { path: "s", kind: "symlink", target: "f" },
      { path: "f", kind: "file", mode: 0o755, content: Buffer.from("hi") },
      { path: "d", kind: "dir" },
    ]);
    const expected = rawPackedRelease([
      { kind: 2, path: "d" },
      { kind: 1, path: "f", mode: 0o755, body: "hi" },
      { kind: 3, path: "s", body: "f" },
    ]);
    expect(bytes.toString("hex")).toBe(expected.toString("hex"));
    expect(bytes.subarray(0, 13).toString("hex")).toBe(
      `${Buffer.from("berthrel").toString("hex")}0100000003`,
    );
  });

  it("shares no memory with the entries it packed", () => {
    const content = Buffer.from("original");
    const { bytes, digest } = packRelease([{ path: "a", kind: "file", mode: 0o644, content }]);
    content.write("changed!");
    expect(releaseDigest(bytes)).toBe(digest);
  });

  it("refuses a path given twice with VALIDATION_FAILED", () => {
    const twice: CodeEntry[] = [
      { path: "a", kind: "file", mode: 0o644, content: Buffer.from("1") },
      { path: "a", kind: "symlink", target: "b" },
    ];
    expect(() => packRelease(twice)).toThrow(
      expect.objectContaining({
        code: "VALIDATION_FAILED",
        details: { field: "code.release", reason: "not-canonical", entry: "a" },
      }),
    );
  });
});
