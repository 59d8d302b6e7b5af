import { archiveError } from "./archive-error.ts";

/** Everything in a tar archive is counted in 512-byte blocks. */
export const TAR_BLOCK = 512;

/** The fields of one 512-byte tar header that berth uses, checked but not yet interpreted. */
export interface TarHeader {
  /** ustar prefix and name joined, as written (GNU and pax overrides come later). */
  name: string;
  linkname: string;
  /** The typeflag character; the pre-POSIX NUL is reported as "0". */
  type: string;
  mode: number;
  /** What the header declares; untrusted, and Infinity when a base-256 value is beyond 2^53. */
  size: number;
}

const ZERO_BLOCK = Buffer.alloc(TAR_BLOCK);
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function isZeroBlock(block: Uint8Array): boolean {
  return ZERO_BLOCK.equals(block);
}

/**
 * Decodes a name strictly: lenient decoding would turn distinct invalid byte
 * sequences into the same U+FFFD name, so the path checked would not be the
 * path another tool sees.
 */
export function decodeName(bytes: Uint8Array, entry: string | undefined): string {
  try {
    return utf8.decode(bytes);
  } catch (err) {
    throw archiveError("bad-path", entry, "has a name that is not valid UTF-8", err);
  }
}

/** Parses and checks one header block; throws the archive's ValidationError on anything malformed. */
export function parseTarHeader(block: Buffer): TarHeader {
  // Only for naming the entry in an error, before the header is known to be sound.
  const rawName = block.toString("utf8", 0, fieldEnd(block, 0, 100));
  if (!checksumMatches(block)) {
    throw archiveError("bad-checksum", rawName, "has a header whose checksum does not match");
  }
  let name = textField(block, 0, 100, rawName);
  // The prefix field exists in POSIX ustar only; GNU headers keep timestamps there.
  if (block.toString("latin1", 257, 263) === "ustar\0") {
    const prefix = textField(block, 345, 500, rawName);
    if (prefix.length > 0) name = `${prefix}/${name}`;
  }
  const typeByte = block[156]!;
  return {
    name,
    linkname: textField(block, 157, 257, rawName),
    type: typeByte === 0 ? "0" : String.fromCharCode(typeByte),
    mode: numberField(block, 100, 108, rawName, "mode"),
    size: numberField(block, 124, 136, rawName, "size"),
  };
}

function fieldEnd(block: Buffer, start: number, end: number): number {
  const nul = block.subarray(start, end).indexOf(0);
  return nul === -1 ? end : start + nul;
}

function textField(block: Buffer, start: number, end: number, entry: string): string {
  const stop = fieldEnd(block, start, end);
  // Bytes after the terminating NUL would be a second name hidden from readers that stop at the NUL.
  if (!ZERO_BLOCK.subarray(0, end - stop).equals(block.subarray(stop, end))) {
    throw archiveError("bad-path", entry, "has a name field with a NUL byte inside it");
  }
  return decodeName(block.subarray(start, stop), entry);
}

function numberField(block: Buffer, start: number, end: number, entry: string, what: string): number {
  const value = readNumber(block, start, end);
  if (value === undefined)
    throw archiveError("bad-header", entry, `has a header with an invalid ${what} field`);
  return value;
}

/** Octal, space/NUL padded; or GNU base-256 when the first byte has its high bit set. */
function readNumber(block: Buffer, start: number, end: number): number | undefined {
  const first = block[start]!;
  if (first & 0x80) {
    if (first === 0xff) return undefined; // negative
    let value = first & 0x7f;
    // Beyond 2^53 this loses precision but stays huge, which is all the size check needs.
    for (let i = start + 1; i < end; i++) value = value * 256 + block[i]!;
    return value;
  }
  let i = start;
  while (i < end && block[i] === 0x20) i++;
  let value = 0;
  for (; i < end && block[i]! >= 0x30 && block[i]! <= 0x37; i++) value = value * 8 + (block[i]! - 0x30);
  while (i < end && (block[i] === 0 || block[i] === 0x20)) i++;
  return i === end ? value : undefined;
}

/** The sum of the header's bytes with the checksum field read as spaces; old tars summed signed bytes. */
function checksumMatches(block: Buffer): boolean {
  const stored = readNumber(block, 148, 156);
  if (stored === undefined) return false;
  // Two branch-free loops around the checksum field: this runs once per header.
  let unsigned = 8 * 0x20;
  let high = 0;
  for (let i = 0; i < 148; i++) {
    unsigned += block[i]!;
    high += block[i]! >> 7;
  }
  for (let i = 156; i < TAR_BLOCK; i++) {
    unsigned += block[i]!;
    high += block[i]! >> 7;
  }
  const signed = unsigned - 256 * high;
  return stored === unsigned || stored === signed;
}
