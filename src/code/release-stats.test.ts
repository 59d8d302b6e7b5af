import { describe, expect, it } from "vitest";
import type { CodeEntry } from "./code-entry.ts";
import { codeFromFiles } from "./code-from-files.ts";
import { readCodeArchive } from "./read-code-archive.ts";
import { releaseStats } from "./release-stats.ts";
import { dir, file, tarGz } from "./testing/tar-writer.ts";

const limits = { maxBytes: 1000, maxFiles: 10 };

describe("releaseStats", () => {
  it("counts files and bytes", () => {
    const stats = releaseStats(
      codeFromFiles({ "a.js": "12345", "lib/b.js": Buffer.from([1, 2, 3]) }, limits),
    );
    expect(stats).toMatchObject({ files: 2, bytes: 8 });
    expect(stats.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("hashes the same code alike whether it came as files or as an archive", () => {
    const fromFiles = codeFromFiles({ "index.js": "i", "lib/a.js": "a" }, limits);
    const fromArchive = readCodeArchive(
      tarGz([dir("./"), dir("./lib/"), file("./lib/a.js", "a"), file("./index.js", "i")]),
      limits,
    );
    expect(releaseStats(fromArchive).hash).toBe(releaseStats(fromFiles).hash);
  });

  it("does not depend on the order of entries", () => {
    const entries: CodeEntry[] = [...codeFromFiles({ a: "1", b: "2", "c/d": "3" }, limits)];
    expect(releaseStats(entries.toReversed()).hash).toBe(releaseStats(entries).hash);
  });

  it("changes with any content, mode, target, or empty directory", () => {
    const base: CodeEntry[] = [
      { path: "a", kind: "file", content: Buffer.from("1"), mode: 0o644 },
      { path: "l", kind: "symlink", target: "a" },
    ];
    const hashes = [
      base,
      [{ ...base[0]!, content: Buffer.from("2") }, base[1]!],
      [{ ...base[0]!, mode: 0o755 as const }, base[1]!],
      [base[0]!, { ...base[1]!, target: "b" }],
      [...base, { path: "empty", kind: "dir" as const }],
    ].map((entries) => releaseStats(entries).hash);
    expect(new Set(hashes).size).toBe(hashes.length);
  });
});
