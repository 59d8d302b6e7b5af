import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { afterEach, beforeEach, expect } from "vitest";
import type { BerthError } from "../../errors/berth-error.ts";
import type { ArchiveRejection } from "../archive-error.ts";
import type { CodeEntryList } from "../code-entry.ts";
import type { CodeLimits } from "../code-files.ts";
import { readCodeArchive } from "../read-code-archive.ts";
import { writeReleaseEntries } from "../write-release-entries.ts";

/** berth's defaults (BERTH_MAX_CODE_BYTES, BERTH_MAX_CODE_FILES). */
export const DEFAULT_LIMITS: CodeLimits = { maxBytes: 8 * 1024 * 1024, maxFiles: 10_000 };

export interface ArchiveUpload {
  /** What an update does: read, then write the release. */
  upload(archive: Buffer, limits?: CodeLimits): Promise<CodeEntryList>;
  /**
   * Expects the archive refused as a client sees it (code, reason, the entry
   * named) with nothing written: neither the release nor a staging directory.
   */
  expectRefused(
    archive: Buffer,
    reason: ArchiveRejection,
    entry: string | undefined,
    limits?: CodeLimits,
  ): Promise<BerthError>;
}

/** Gives each test of the calling file an empty directory to write releases into, removed after it. */
export function useArchiveUpload(): ArchiveUpload {
  let root = "";
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "berth-archive-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function upload(archive: Buffer, limits = DEFAULT_LIMITS): Promise<CodeEntryList> {
    const entries = readCodeArchive(archive, limits);
    await writeReleaseEntries(join(root, "release"), entries);
    return entries;
  }

  async function expectRefused(
    archive: Buffer,
    reason: ArchiveRejection,
    entry: string | undefined,
    limits = DEFAULT_LIMITS,
  ): Promise<BerthError> {
    const err = (await upload(archive, limits).then(
      () => expect.fail("the archive was accepted"),
      (e: unknown) => e,
    )) as BerthError;
    expect(err.code).toBe("VALIDATION_FAILED");
    expect(err.details).toMatchObject({ field: "code.archive", reason });
    expect(err.details?.entry).toBe(entry);
    expect(await readdir(root)).toEqual([]);
    return err;
  }

  return { upload, expectRefused };
}

/** `bytes` of zeros gzipped (100 MB compress to about 100 KB); streamed so the test itself never holds them. */
export async function gzipZeros(bytes: number): Promise<Buffer> {
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
