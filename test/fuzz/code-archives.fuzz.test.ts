import { spawnSync } from "node:child_process";
import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ArchiveRejection } from "../../src/code/archive-error.ts";
import type { CodeEntryList } from "../../src/code/code-entry.ts";
import { checkCodePath } from "../../src/code/code-files.ts";
import { readCodeArchive } from "../../src/code/read-code-archive.ts";
import { checkSymlinkTarget } from "../../src/code/symlink-target.ts";
import {
  dir,
  file,
  gnuLong,
  hardLink,
  pax,
  symlink,
  tarArchive,
  tarMember,
} from "../../src/code/testing/tar-writer.ts";
import { BerthError } from "../../src/errors/berth-error.ts";
import { fuzzParameters } from "./fuzz-settings.ts";

/**
 * Uploaded archives, generated: members with hostile names and links, pax and
 * GNU extended headers, then bytes overwritten, cut off or appended, plain or
 * gzipped. berth either refuses the archive as documented (a ValidationError
 * on `code.archive` with one of the ArchiveRejection reasons, never another
 * exception) or returns entries that keep every promise the release writer
 * relies on; and what it accepts, GNU tar lists as the same members.
 */
const LIMITS = { maxBytes: 64 * 1024, maxFiles: 40 };
const REASONS = new Set<ArchiveRejection>([
  "not-an-archive",
  "gzip-truncated",
  "gzip-corrupt",
  "too-large",
  "too-many-files",
  "truncated",
  "bad-checksum",
  "bad-header",
  "trailing-data",
  "bad-path",
  "unsupported-type",
  "duplicate",
  "file-dir-conflict",
  "through-symlink",
  "symlink-escapes",
  "bad-hardlink",
]);

// Mostly names a real tree has, so that many archives are accepted and compared with tar; some hostile.
const segment = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("a", "b", "lib", "src", "x.js", "é", "🐳", "a b") },
  { weight: 1, arbitrary: fc.constantFrom("..", ".", "", "a\\b", "x\u0000y", "C:", "n\n") },
);
const path = fc.tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.nat(9)).map(([parts, form]) => {
  const joined = parts.join("/");
  return form < 6 ? joined : form < 9 ? `./${joined}` : `/${joined}`;
});
const target = fc.oneof(
  path,
  path.map((p) => `../${p}`),
);
const content = fc.uint8Array({ maxLength: 1500 }).map((bytes) => Buffer.from(bytes));

const key = fc.constantFrom("path", "linkpath", "size", "comment", "mtime", "GNU.sparse.major");
const records = fc.dictionary(key, fc.oneof(path, fc.constantFrom("", "0", "1", "600", "12x")), {
  maxKeys: 2,
});

const member = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(path, content, fc.constantFrom(0o644, 0o755, 0o4777))
      .map(([p, c, m]) => file(p, c, m)),
  },
  { weight: 2, arbitrary: path.map((p) => dir(`${p}/`)) },
  { weight: 2, arbitrary: fc.tuple(path, target).map(([p, t]) => symlink(p, t)) },
  { weight: 2, arbitrary: fc.tuple(path, path).map(([p, t]) => hardLink(p, t)) },
  {
    weight: 2,
    arbitrary: fc.tuple(records, fc.constantFrom("x", "g")).map(([r, type]) => pax(r, type as "x" | "g")),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(path, target), fc.constantFrom("L", "K"))
      .map(([p, type]) => gnuLong(p, type as "L" | "K")),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        path,
        fc.constantFrom("0", "1", "2", "3", "5", "6", "7", "S", "V", "D", "M"),
        content,
        fc.constantFrom<"ustar" | "gnu" | "v7">("ustar", "gnu", "v7"),
      )
      .map(([p, type, data, format]) => tarMember({ name: p, type, data, format })),
  },
);

/** Byte-level damage: overwrite bytes, cut the archive short, or append to it. */
const damage = fc.oneof(
  { weight: 6, arbitrary: fc.constant((tar: Buffer) => tar) },
  fc
    .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })
    .map((writes) => (tar: Buffer) => {
      const copy = Buffer.from(tar);
      for (const [at, byte] of writes) if (copy.length > 0) copy[at % copy.length] = byte;
      return copy;
    }),
  fc.nat().map((n) => (tar: Buffer) => tar.subarray(0, tar.length === 0 ? 0 : n % tar.length)),
  content.map((tail) => (tar: Buffer) => Buffer.concat([tar, tail])),
);

const archive = fc
  .tuple(fc.array(member, { maxLength: 8 }), damage, fc.boolean())
  .map(([members, hurt, gzip]) => {
    const tar = hurt(tarArchive(members));
    return gzip ? gzipSync(tar) : tar;
  });

function read(bytes: Buffer): CodeEntryList | BerthError {
  try {
    return readCodeArchive(bytes, LIMITS);
  } catch (err) {
    // Anything but berth's own refusal (a RangeError from a bad offset, say) is a bug the property reports.
    if (!(err instanceof BerthError)) throw err;
    return err;
  }
}

/** What writeReleaseEntries and the workload rely on, checked over the whole list. */
function expectSound(entries: CodeEntryList): void {
  const kinds = new Map(entries.map((e) => [e.path, e.kind]));
  expect(kinds.size).toBe(entries.length);
  let bytes = 0;
  for (const entry of entries) {
    expect(checkCodePath(entry.path)).toBeUndefined();
    const parts = entry.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = kinds.get(parts.slice(0, i).join("/"));
      expect(parent === undefined || parent === "dir").toBe(true);
    }
    if (entry.kind === "symlink") expect(checkSymlinkTarget(entry.path, entry.target)).toBeUndefined();
    if (entry.kind === "file") {
      expect([0o644, 0o755]).toContain(entry.mode);
      bytes += entry.content.length;
    }
  }
  expect(bytes).toBeLessThanOrEqual(LIMITS.maxBytes);
  expect(entries.length).toBeLessThanOrEqual(LIMITS.maxFiles);
}

describe("code archives, generated", () => {
  it("are refused as documented or read into entries that keep every promise", () => {
    fc.assert(
      fc.property(archive, (bytes) => {
        const result = read(bytes);
        if (result instanceof BerthError) {
          expect(result.code).toBe("VALIDATION_FAILED");
          expect(result.details?.field).toBe("code.archive");
          expect(REASONS.has(result.details?.reason as ArchiveRejection)).toBe(true);
        } else {
          expectSound(result);
        }
      }),
      fuzzParameters(0.2),
    );
  });

  it("when accepted, list as the same members in GNU tar", () => {
    fc.assert(
      fc.property(archive, (bytes) => {
        const result = read(bytes);
        if (result instanceof BerthError) return;
        // --quoting-style=escape would mangle names; newlines are refused by berth, so lines are members.
        // tar detects compression on files only, not on its standard input.
        const tar = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
        // Its exit status is not compared: tar lists a member and then fails for a pax record it dislikes (mtime=a).
        const listed = spawnSync("tar", ["--quoting-style=literal", "-tf", "-"], { input: tar })
          .stdout.toString("utf8")
          .split("\n")
          .slice(0, -1) // after the last newline; an empty line before it is a member with an empty name
          .filter((line) => line !== "./" && line !== ".") // the release root, which berth skips
          .map((line) => line.replace(/^\.\//, "").replace(/\/$/, ""));
        if (JSON.stringify(listed) !== JSON.stringify(result.map((e) => e.path)))
          expect(listed).toEqual(result.map((e) => e.path));
      }),
      fuzzParameters(0.2),
    );
  });
});
