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

const content = fc.uint8Array({ maxLength: 1500 }).map((bytes) => Buffer.from(bytes));

/**
 * Archives of up to 8 members, plain or gzipped. `hostile` mixes in names no
 * tree has and byte-level damage (overwritten, cut short, appended to); without
 * it most archives are accepted, which is what a comparison with tar needs.
 */
function archives(hostile: boolean): fc.Arbitrary<Buffer> {
  const segment = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom("a", "b", "lib", "src", "x.js", "é", "🐳", "a b") },
    { weight: hostile ? 1 : 0, arbitrary: fc.constantFrom("..", ".", "", "a\\b", "x\u0000y", "C:", "n\n") },
  );
  const path = fc.tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.nat(9)).map(([parts, form]) => {
    const joined = parts.join("/");
    return form < 6 ? joined : form < 9 || !hostile ? `./${joined}` : `/${joined}`;
  });
  const target = fc.oneof(
    path,
    path.map((p) => `../${p}`),
  );
  const key = fc.constantFrom("path", "linkpath", "size", "comment", "mtime", "GNU.sparse.major");
  const records = fc.dictionary(key, fc.oneof(path, fc.constantFrom("", "0", "1", "600", "12x")), {
    maxKeys: 2,
  });

  /** A member with its own header only. */
  const plain = fc.oneof(
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

  /** A header that changes how the next member (or, global, every later one) is read. */
  const extension = fc.oneof(
    fc.tuple(records, fc.constantFrom<"x" | "g">("x", "g")).map(([r, type]) => pax(r, type)),
    fc
      .tuple(fc.oneof(path, target), fc.constantFrom<"L" | "K">("L", "K"))
      .map(([p, type]) => gnuLong(p, type)),
  );

  const member = fc.oneof(
    { weight: 6, arbitrary: plain },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.array(extension, { minLength: 1, maxLength: 2 }), plain)
        .map(([headers, next]) => Buffer.concat([...headers, next])),
    },
    { weight: 1, arbitrary: extension },
  );

  const damage = fc.oneof(
    { weight: 6, arbitrary: fc.constant((tar: Buffer) => tar) },
    {
      weight: hostile ? 1 : 0,
      arbitrary: fc
        .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })
        .map((writes) => (tar: Buffer) => {
          const copy = Buffer.from(tar);
          for (const [at, byte] of writes) if (copy.length > 0) copy[at % copy.length] = byte;
          return copy;
        }),
    },
    {
      weight: hostile ? 1 : 0,
      arbitrary: fc.nat().map((n) => (tar: Buffer) => tar.subarray(0, tar.length === 0 ? 0 : n % tar.length)),
    },
    {
      weight: hostile ? 1 : 0,
      arbitrary: content.map((tail) => (tar: Buffer) => Buffer.concat([tar, tail])),
    },
  );

  return fc.tuple(fc.array(member, { maxLength: 8 }), damage, fc.boolean()).map(([members, hurt, gzip]) => {
    const tar = hurt(tarArchive(members));
    return gzip ? gzipSync(tar) : tar;
  });
}

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
      fc.property(archives(true), (bytes) => {
        const result = read(bytes);
        if (result instanceof BerthError) {
          expect(result.code).toBe("VALIDATION_FAILED");
          expect(result.details?.field).toBe("code.archive");
          expect(REASONS.has(result.details?.reason as ArchiveRejection)).toBe(true);
        } else {
          expectSound(result);
        }
      }),
      // In process and cheap (well under a millisecond a case): the run's whole count.
      fuzzParameters(1),
    );
  });

  it("when accepted, list as the same members, kinds and link targets in GNU tar", () => {
    fc.assert(
      fc.property(archives(false), (bytes) => {
        const result = read(bytes);
        if (result instanceof BerthError) return;
        const berth = result.map(
          (e) => `${e.kind} ${e.path}${e.kind === "symlink" ? ` -> ${e.target}` : ""}`,
        );
        const tar = listWithGnuTar(bytes).map(({ kind, name, target }) => {
          const path = name.replace(/^\.\//, "").replace(/\/$/, "");
          // berth writes a hard link as a copy of its target.
          if (kind === "h") return `file ${path}`;
          return kind === "l" ? `symlink ${path} -> ${target}` : `${kind === "d" ? "dir" : "file"} ${path}`;
        });
        expect(tar).toEqual(berth);
      }),
      // A tar process for each accepted archive, a few milliseconds each.
      fuzzParameters(1),
    );
  });
});

interface Listed {
  /** The first letter of the mode tar prints: "-" file, "d" directory, "l" symlink, "h" hard link. */
  kind: string;
  name: string;
  target: string | undefined;
}

/** `tar -tv`, one member a line (berth refuses names with a newline), without the release root berth skips. */
function listWithGnuTar(bytes: Buffer): Listed[] {
  // tar detects compression on files only, not on its standard input.
  const input = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  // Its exit status is not compared: tar lists a member, then fails for a pax record it dislikes (mtime=a).
  const run = spawnSync("tar", ["--quoting-style=literal", "--numeric-owner", "-tvf", "-"], { input });
  if (run.error) throw run.error;
  const lines = run.stdout.toString("utf8").split("\n").slice(0, -1);
  return lines.flatMap((line) => {
    const match = /^(\S)\S* \S+ +\d+ \d{4}-\d\d-\d\d \d\d:\d\d (.*)$/s.exec(line);
    if (!match) throw new Error(`tar listed a line this test cannot read: ${JSON.stringify(line)}`);
    const [, kind = "", rest = ""] = match;
    const separator = kind === "l" ? " -> " : kind === "h" ? " link to " : undefined;
    const at = separator === undefined ? -1 : rest.indexOf(separator);
    const name = at === -1 ? rest : rest.slice(0, at);
    const target = at === -1 || separator === undefined ? undefined : rest.slice(at + separator.length);
    return name === "./" || name === "." ? [] : [{ kind, name, target }];
  });
}
