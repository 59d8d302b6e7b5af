import { readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import type { CodeEntryList } from "../src/code/code-entry.ts";
import type { CodeLimits } from "../src/code/code-files.ts";
import { archiveByteBudget, readCodeArchive } from "../src/code/read-code-archive.ts";
import { readCodeArchiveWithTarStream } from "./tar-stream-code-reader.ts";

/**
 * One reader on one archive in a process of its own (argv: reader, archive
 * path, reads), so that its peak RSS is its own: prints the time of each read
 * and the peak RSS of the first read above what the process held before it.
 */
export interface ChildResult {
  ms: number[];
  /** Bytes; the first read's, so no garbage of an earlier read is counted. */
  peakRss: number;
  files: number;
}

const LIMITS: CodeLimits = { maxBytes: 64 * 1024 * 1024, maxFiles: 10_000 };
const readers: Record<string, (archive: Uint8Array, limits: CodeLimits) => Promise<CodeEntryList>> = {
  "hand-written": async (archive, limits) => readCodeArchive(archive, limits),
  "tar-stream": readCodeArchiveWithTarStream,
  // What readCodeArchive did before: zlib's chunks concatenated at the end, then the tar read from that.
  "hand-written, 64 KiB inflate chunks": async (archive, limits) =>
    readCodeArchive(
      gunzipSync(archive, { maxOutputLength: archiveByteBudget(limits), chunkSize: 64 * 1024 }),
      limits,
    ),
};

const [readerName = "", path = "", reads = "5"] = process.argv.slice(2);
const read = readers[readerName];
if (!read) throw new Error(`unknown reader ${JSON.stringify(readerName)}`);
const archive = await readFile(path);
// Start-up (loading and stripping the TypeScript) peaks higher than the process
// then holds, so the high-water mark is reset (Linux: "5" to clear_refs) rather than read as a floor.
writeFileSync("/proc/self/clear_refs", "5");
const before = statusKiB("VmRSS");
const ms: number[] = [];
let files = 0;
let peakRss = 0;
for (let i = 0; i < Number(reads); i++) {
  const started = performance.now();
  const entries = await read(archive, LIMITS);
  ms.push(performance.now() - started);
  if (i === 0) peakRss = (statusKiB("VmHWM") - before) * 1024;
  files = entries.length;
}
const result: ChildResult = { ms, peakRss, files };
process.stdout.write(JSON.stringify(result));

function statusKiB(field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  if (!match) throw new Error(`no ${field} in /proc/self/status`);
  return Number(match[1]);
}
