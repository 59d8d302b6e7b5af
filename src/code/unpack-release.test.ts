import { describe, expect, it } from "vitest";
import { seededRandom } from "../../test/helpers/seeded-random.ts";
import { ValidationError } from "../errors/errors.ts";
import { codeFromFiles } from "./code-from-files.ts";
import { packRelease } from "./pack-release.ts";
import { type RawEntry, type RawHeader, rawPackedRelease } from "./testing/raw-packed-release.ts";
import { unpackRelease } from "./unpack-release.ts";

const limits = { maxBytes: 1000, maxFiles: 10 };
const DIR = 2;
const SYMLINK = 3;

/** What unpacking `bytes` is refused with: a VALIDATION_FAILED naming the field and the reason. */
function refusal(bytes: Uint8Array, reason: string, entry?: string): void {
  let thrown: unknown;
  try {
    unpackRelease(bytes, limits);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ValidationError);
  expect(thrown).toMatchObject({
    code: "VALIDATION_FAILED",
    details:
      entry === undefined ? { field: "code.release", reason } : { field: "code.release", reason, entry },
  });
}

const raw = (entries: RawEntry[], header?: RawHeader) => rawPackedRelease(entries, header);

describe("unpackRelease refuses bytes that are not a packed release", () => {
  it("refuses empty bytes, another magic, and a version it does not know", () => {
    refusal(Buffer.alloc(0), "not-a-release");
    refusal(Buffer.from("berthre"), "not-a-release");
    refusal(raw([], { magic: "ustar\0\0\0" }), "not-a-release");
    refusal(raw([], { version: 2 }), "unknown-version");
  });

  it("refuses every truncation of a valid release, at every byte", () => {
    const { bytes } = packRelease(
      codeFromFiles({ "index.js": "console.log(1)", "lib/a.js": "export {}" }, limits),
    );
    expect(unpackRelease(bytes, limits)).toHaveLength(2);
    for (let length = 0; length < bytes.length; length++) {
      expect(() => unpackRelease(bytes.subarray(0, length), limits), `cut at ${length}`).toThrow(
        ValidationError,
      );
    }
  });

  it("refuses lengths that point past the end without reading or allocating them", () => {
    refusal(raw([{ path: "a", pathLength: 0xffff_ffff }]), "truncated");
    refusal(raw([{ path: "a", body: "data", bodyLength: 0xffff_ffff }]), "truncated", "a");
    refusal(raw([{ path: "a", body: "data", bodyLength: 5 }]), "truncated", "a");
    refusal(raw([{ kind: SYMLINK, path: "l", body: "a", bodyLength: 0x7fff_ffff }]), "truncated", "l");
  });

  it("refuses a huge count at once, and a count larger than the entries given", () => {
    refusal(raw([], { count: 0xffff_ffff }), "too-many-files");
    refusal(raw([{ path: "a" }], { count: limits.maxFiles + 1 }), "too-many-files");
    refusal(raw([{ path: "a" }], { count: 2 }), "truncated");
  });

  it("refuses bytes after the last entry, and fewer entries counted than given", () => {
    refusal(Buffer.concat([raw([{ path: "a" }]), Buffer.from([0])]), "trailing-data");
    refusal(raw([{ path: "a" }, { path: "b" }], { count: 1 }), "trailing-data");
  });

  it("refuses a kind or a mode packRelease never writes", () => {
    refusal(raw([{ kind: 0, path: "a" }]), "bad-kind", "a");
    refusal(raw([{ kind: 4, path: "a" }]), "bad-kind", "a");
    for (const mode of [0o777, 0o4755, 0o600, 0]) refusal(raw([{ path: "a", mode }]), "bad-mode", "a");
  });

  it("refuses paths an upload may not have, and names them", () => {
    for (const path of ["../x", "a/../../x", "/etc/passwd", "./x", "a/", "a//b", ".", "", "a\\b", "C:x"]) {
      refusal(raw([{ path }]), "bad-path", path);
    }
    refusal(raw([{ path: "a\0b" }]), "bad-path");
    refusal(raw([{ path: "x".repeat(1025) }]), "bad-path");
    refusal(raw([{ kind: DIR, path: "../up" }]), "bad-path", "../up");
  });

  it("refuses a path or a link target that is not UTF-8", () => {
    refusal(raw([{ path: Buffer.from([0x61, 0xff]) }]), "bad-utf8");
    refusal(raw([{ kind: SYMLINK, path: "l", body: Buffer.from([0xc3]) }]), "bad-utf8", "l");
  });

  it("refuses a symlink out of the release, and anything written through one, as an upload is", () => {
    refusal(raw([{ kind: SYMLINK, path: "l", body: "../etc" }]), "symlink-escapes", "l");
    refusal(raw([{ kind: SYMLINK, path: "l", body: "/etc/passwd" }]), "symlink-escapes", "l");
    refusal(raw([{ kind: SYMLINK, path: "d", body: "." }, { path: "d/x" }]), "through-symlink", "d/x");
  });

  it("refuses a file that is also a directory", () => {
    refusal(raw([{ path: "a" }, { path: "a/b" }]), "file-dir-conflict", "a/b");
  });

  it("refuses entries past the limits, counted as read", () => {
    refusal(
      raw([
        { path: "a", body: "x".repeat(600) },
        { path: "b", body: "y".repeat(600) },
      ]),
      "too-large",
      "b",
    );
    const eleven = Array.from({ length: 11 }, (_, i) => ({ path: `f${String(i).padStart(2, "0")}` }));
    refusal(raw(eleven, { count: 10 }), "trailing-data");
    refusal(raw(eleven), "too-many-files");
  });

  it("refuses what is not in canonical form: out of order, twice, or an implied directory listed", () => {
    refusal(raw([{ path: "b" }, { path: "a" }]), "not-canonical", "a");
    refusal(raw([{ path: "a" }, { path: "a" }]), "not-canonical", "a");
    refusal(raw([{ kind: DIR, path: "lib" }, { path: "lib/a.js" }]), "not-canonical", "lib");
    // Sorted by bytes: "a-b" (0x2d) comes before "a/b" (0x2f), so the directory's child is not next to it.
    refusal(raw([{ kind: DIR, path: "a" }, { path: "a-b" }, { path: "a/b" }]), "not-canonical", "a");
  });

  it("answers nothing but VALIDATION_FAILED for thousands of corrupted releases", () => {
    const { bytes } = packRelease(
      codeFromFiles({ "index.js": "console.log(1)", "lib/a.js": "export {}", "lib/b/c.txt": "c" }, limits),
    );
    const random = seededRandom(16);
    let refused = 0;
    for (let round = 0; round < 3000; round++) {
      const corrupt = Buffer.from(bytes);
      const flips = 1 + Math.floor(random() * 3);
      for (let f = 0; f < flips; f++) {
        corrupt[Math.floor(random() * corrupt.length)] = Math.floor(random() * 256);
      }
      try {
        unpackRelease(corrupt, limits);
      } catch (err) {
        expect(err, `round ${round}`).toBeInstanceOf(ValidationError);
        refused++;
      }
    }
    // Most corruptions are refused; the rest change a data byte, which only the digest can tell.
    expect(refused).toBeGreaterThan(1000);
  });

  it("reads file contents as views into the bytes, copying nothing", () => {
    const bytes = raw([{ path: "a", body: "hello" }]);
    const [entry] = unpackRelease(bytes, limits);
    expect(entry?.kind === "file" && entry.content.buffer).toBe(bytes.buffer);
  });
});
