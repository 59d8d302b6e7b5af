import { Readable, Transform, type TransformCallback } from "node:stream";
import { createGunzip } from "node:zlib";
import type { WritableOptions } from "streamx";
import { extract, type Header } from "tar-stream";
import { archiveError } from "../src/code/archive-error.ts";
import type { CodeEntryList } from "../src/code/code-entry.ts";
import { CodeEntryBuilder } from "../src/code/code-entry-builder.ts";
import type { CodeLimits } from "../src/code/code-files.ts";
import { isGzip } from "../src/code/gunzip-bounded.ts";
import { archiveByteBudget } from "../src/code/read-code-archive.ts";
import { decodeName } from "../src/code/tar-header.ts";
import { BerthError } from "../src/errors/berth-error.ts";

/**
 * The strongest reader of code archives that tar-stream's `extract` allows,
 * kept for the comparison in bench/archive-read.ts and as the evidence for
 * keeping berth's own tar reader (see the header of src/code/tar-reader.ts).
 * Everything berth can still check from what tar-stream hands over is checked
 * here with berth's own code: the bounded, streamed inflate; names re-decoded
 * strictly from latin1; pax sparse keys; limits counted chunk by chunk; the tree
 * built by CodeEntryBuilder. What tar-stream never hands over (the raw header,
 * the metadata headers, the end-of-archive marker) cannot be checked at all.
 * To run the corpus against it, import it in src/code/testing/archive-upload.ts
 * in place of readCodeArchive (awaited) and run the read-code-archive tests.
 */
export async function readCodeArchiveWithTarStream(
  archive: Uint8Array,
  limits: CodeLimits,
): Promise<CodeEntryList> {
  const budget = archiveByteBudget(limits);
  const bytes = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  let source: Readable;
  if (isGzip(bytes)) {
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    source = Readable.from([bytes]).pipe(gunzip).pipe(new Budget(budget));
    gunzip.on("error", (err) => source.destroy(err));
  } else {
    if (bytes.length > budget) {
      throw archiveError("too-large", undefined, `is larger than ${budget} bytes unpacked`);
    }
    source = Readable.from([bytes]);
  }
  // latin1 keeps every name byte, so berth can decode it strictly (tar-stream's utf-8 would turn bad bytes into U+FFFD).
  // Both options exist in tar-stream 3 (extract.js) but not in its type declarations.
  const tar = extract({ allowUnknownFormat: true, filenameEncoding: "latin1" } as WritableOptions);
  const builder = new CodeEntryBuilder(limits);
  let read = 0;
  let current: string | undefined;
  let seenEntry = false;
  source.on("error", (err) => tar.destroy(err));
  source.pipe(tar);
  try {
    for await (const entry of tar) {
      const { header } = entry;
      // A pax path arrives already decoded (leniently) by tar-stream; a header's own name as latin1 bytes.
      const fromPax = (header.pax as Record<string, string> | null)?.path !== undefined;
      const raw = Buffer.from(header.name, "latin1");
      const name = fromPax ? header.name : decodeName(raw, raw.toString("utf8"));
      current = name;
      seenEntry = true;
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        // Counted as read, so a large entry is refused at the chunk that passes the limit.
        read += chunk.length;
        if (read > limits.maxBytes) {
          throw archiveError("too-large", name, `takes the code past the limit of ${limits.maxBytes} bytes`);
        }
        chunks.push(chunk);
      }
      if (isSparse(header)) throw archiveError("unsupported-type", name, "is a sparse file");
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      builder.add({
        name,
        linkname:
          (header.pax as Record<string, string> | null)?.linkpath !== undefined
            ? header.linkname
            : decodeName(Buffer.from(header.linkname ?? "", "latin1"), name),
        type: TYPEFLAGS[header.type] ?? "?",
        mode: header.mode,
        data,
      });
      read -= data.length; // the builder counts it again
      current = undefined;
    }
  } catch (err) {
    source.destroy();
    tar.destroy();
    throw toArchiveError(err, current, seenEntry);
  }
  return builder.entries;
}

const TYPEFLAGS: Record<string, string> = {
  file: "0",
  link: "1",
  symlink: "2",
  "character-device": "3",
  "block-device": "4",
  directory: "5",
  fifo: "6",
  "contiguous-file": "7",
};

function isSparse(header: Header): boolean {
  const pax = header.pax as Record<string, string> | null | undefined;
  return pax != null && Object.keys(pax).some((key) => key.startsWith("GNU.sparse."));
}

/** tar-stream's errors are plain Errors told apart by their message only. */
function toArchiveError(err: unknown, entry: string | undefined, seenEntry: boolean): unknown {
  if (err instanceof BerthError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  if (code === "ERR_BUFFER_TOO_LARGE") return err;
  if (code === "Z_BUF_ERROR")
    return archiveError("gzip-truncated", undefined, "is a truncated gzip stream", err);
  if (typeof code === "string" && code.startsWith("Z_")) {
    return archiveError("gzip-corrupt", undefined, "is not a valid gzip stream", err);
  }
  if (message.startsWith("Invalid tar header")) {
    return seenEntry
      ? archiveError("bad-checksum", undefined, "has a header whose checksum does not match", err)
      : archiveError("not-an-archive", undefined, "is neither a tar nor a gzip-compressed tar archive", err);
  }
  if (message === "Unexpected end of data") {
    return archiveError("truncated", entry, "ends in the middle of an entry (it is truncated)", err);
  }
  return archiveError("bad-header", entry, "has a malformed header", err);
}

/** Refuses the inflated stream as soon as it passes the budget, so a bomb is never inflated whole. */
class Budget extends Transform {
  #seen = 0;
  readonly #budget: number;

  constructor(budget: number) {
    super();
    this.#budget = budget;
  }

  override _transform(chunk: Buffer, _: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#budget) {
      done(archiveError("too-large", undefined, `expands to more than ${this.#budget} bytes`));
      return;
    }
    done(null, chunk);
  }
}
