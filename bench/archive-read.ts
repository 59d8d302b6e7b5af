import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { file, tarArchive } from "../src/code/testing/tar-writer.ts";
import type { ChildResult } from "./archive-read-child.ts";
import { printTable } from "./stats.ts";

/**
 * Reading an uploaded code archive: berth's hand-written tar reader (what
 * berth runs) beside the strongest reader tar-stream's `extract` allows
 * (bench/tar-stream-code-reader.ts, the baseline), on one archive of 5,000
 * files and 50 MB, as a plain tar and as a tar.gz; and, for the tar.gz, beside
 * itself inflating in 64 KiB chunks as it did before gunzipBounded sized its
 * output from the gzip trailer. Each reader runs in a
 * child process of its own, alternating, so that each peak RSS is its own;
 * limits are raised to 64 MiB and 10,000 files so that the archive passes.
 * No engine: `node bench/run.ts archive-read`.
 */
const FILES = 5_000;
const FILE_BYTES = 10 * 1024;
const ROUNDS = 4;
const READS_PER_CHILD = 6;
/** The reader as it was before gunzipBounded sized its output from the gzip trailer. */
const UNSIZED = "hand-written, 64 KiB inflate chunks";
const READERS = ["hand-written", "tar-stream", UNSIZED];

const execFileAsync = promisify(execFile);

export async function run(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "berth-archive-bench-"));
  try {
    const tar = tarArchive(
      Array.from({ length: FILES }, (_, i) => file(`src/m${i % 100}/f${i}.js`, content(i))),
    );
    const archives = { tar, "tar.gz": gzipSync(tar) };
    for (const [format, bytes] of Object.entries(archives)) {
      await writeFile(join(work, format), bytes);
      console.log(`${format}: ${(bytes.length / 1e6).toFixed(1)} MB`);
    }
    const results = new Map<string, { ms: number[]; mb: number[] }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const format of Object.keys(archives)) {
        const readers = format === "tar.gz" ? [...READERS] : READERS.filter((r) => r !== UNSIZED);
        // Alternating the order, so that neither reader always runs on a machine warmed by the other.
        if (round % 2 === 1) readers.reverse();
        for (const reader of readers) {
          const child = await readInChild(reader, join(work, format));
          if (child.files !== FILES) throw new Error(`${reader} read ${child.files} files of ${FILES}`);
          const key = `${reader} ${format}`;
          const seen = results.get(key) ?? { ms: [], mb: [] };
          seen.ms.push(...child.ms.slice(1)); // the first read warms up
          seen.mb.push(child.peakRss / 1e6);
          results.set(key, seen);
        }
      }
    }
    const get = (key: string) => results.get(key) ?? { ms: [], mb: [] };
    const size = `${FILES} files, ${(tar.length / 1e6).toFixed(0)} MB`;
    const peak = "peak RSS of one read above the process before it, one per child";
    for (const [unit, pick] of [
      ["ms", (r: { ms: number[] }) => r.ms],
      ["MB", (r: { mb: number[] }) => r.mb],
    ] as const) {
      const what = unit === "ms" ? "time per read" : peak;
      printTable(
        `archive read, ${size}: berth = hand-written reader, baseline = tar-stream (${what})`,
        unit,
        [
          { what: "tar", berth: pick(get("hand-written tar")), baseline: pick(get("tar-stream tar")) },
          {
            what: "tar.gz",
            berth: pick(get("hand-written tar.gz")),
            baseline: pick(get("tar-stream tar.gz")),
          },
        ],
      );
      printTable(
        `archive read, ${size}: berth = hand-written reader, baseline = it with 64 KiB inflate chunks (${what})`,
        unit,
        [
          {
            what: "tar.gz",
            berth: pick(get("hand-written tar.gz")),
            baseline: pick(get(`${UNSIZED} tar.gz`)),
          },
        ],
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function readInChild(reader: string, path: string): Promise<ChildResult> {
  const child = new URL("./archive-read-child.ts", import.meta.url).pathname;
  const { stdout } = await execFileAsync(process.execPath, [child, reader, path, String(READS_PER_CHILD)], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as ChildResult;
}

/** Source-like text that differs per file, so gzip compresses it about as much as real code (3 to 4 times). */
function content(i: number): Buffer {
  const line = (n: number) =>
    `export const value${n} = computeSomething(${(i * 7919 + n * 104729) % 1000003}, "${(n * i).toString(36)}");\n`;
  const parts: string[] = [];
  let length = 0;
  for (let n = 0; length < FILE_BYTES; n++) {
    const next = line(n);
    parts.push(next);
    length += next.length;
  }
  return Buffer.from(parts.join("").slice(0, FILE_BYTES));
}
