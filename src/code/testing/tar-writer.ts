import { gzipSync } from "node:zlib";

/**
 * A tar writer for tests that will write anything, including what no honest
 * tool would: lying sizes, bad checksums, odd types, raw name bytes. Only the
 * fields the reader looks at can be set; the rest are zero or plausible.
 */
export interface MemberOptions {
  /** A string, or raw bytes for names no string can hold (a NUL inside, invalid UTF-8). */
  name: string | Uint8Array;
  /** The typeflag character; "0" by default. */
  type?: string;
  mode?: number;
  /** The data that follows the header (padded to 512 bytes). */
  data?: string | Uint8Array;
  /** The size the header declares; the data's length by default. */
  size?: number;
  linkname?: string;
  /** The ustar prefix field (POSIX format only). */
  prefix?: string;
  /** Which magic to write: POSIX ustar (default), GNU, or none (V7). */
  format?: "ustar" | "gnu" | "v7";
  /** Written instead of the correct checksum. */
  checksum?: number;
  /** Changes the header before its checksum is computed, for fields no option covers. */
  patch?: (header: Buffer) => void;
}

const BLOCK = 512;

export function tarMember(options: MemberOptions): Buffer {
  const data = toBytes(options.data ?? "");
  const header = Buffer.alloc(BLOCK);
  writeBytes(header, 0, 100, toBytes(options.name));
  writeOctal(header, 100, 8, options.mode ?? (options.type === "5" ? 0o755 : 0o644));
  writeOctal(header, 108, 8, 0); // uid
  writeOctal(header, 116, 8, 0); // gid
  writeSize(header, options.size ?? data.length);
  writeOctal(header, 136, 12, 1_700_000_000); // mtime
  header.write(options.type ?? "0", 156, 1, "latin1");
  writeBytes(header, 157, 100, toBytes(options.linkname ?? ""));
  const format = options.format ?? "ustar";
  if (format === "ustar") header.write("ustar\u000000", 257, 8, "latin1");
  if (format === "gnu") header.write("ustar  \u0000", 257, 8, "latin1");
  if (options.prefix !== undefined) writeBytes(header, 345, 155, toBytes(options.prefix));
  options.patch?.(header);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${(options.checksum ?? sum).toString(8).padStart(6, "0")}\u0000 `, 148, 8, "latin1");
  return Buffer.concat([header, data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)]);
}

export function file(name: string, content: string | Uint8Array = "", mode = 0o644): Buffer {
  return tarMember({ name, data: content, mode });
}

export function dir(name: string): Buffer {
  return tarMember({ name, type: "5" });
}

export function symlink(name: string, target: string): Buffer {
  return tarMember({ name, type: "2", linkname: target, mode: 0o777 });
}

export function hardLink(name: string, target: string): Buffer {
  return tarMember({ name, type: "1", linkname: target });
}

/** A pax extended header ("x", for the next member) or global header ("g"). */
export function pax(records: Record<string, string>, type: "x" | "g" = "x"): Buffer {
  const body = Object.entries(records).map(([key, value]) => {
    const rest = ` ${key}=${value}\n`;
    const restLength = Buffer.byteLength(rest);
    // The length counts its own digits.
    let length = restLength + 1;
    while (String(length).length + restLength !== length) length++;
    return `${length}${rest}`;
  });
  return tarMember({ name: "PaxHeaders/x", type, data: body.join("") });
}

/** A GNU long name ("L") or long link target ("K") for the next member. */
export function gnuLong(name: string, type: "L" | "K" = "L"): Buffer {
  return tarMember({ name: "././@LongLink", type, format: "gnu", data: `${name}\u0000` });
}

/** Members followed by the end-of-archive marker (two zero blocks), unless `end` is false. */
export function tarArchive(members: Buffer[], { end = true } = {}): Buffer {
  return Buffer.concat([...members, Buffer.alloc(end ? 2 * BLOCK : 0)]);
}

export function tarGz(members: Buffer[]): Buffer {
  return gzipSync(tarArchive(members));
}

function toBytes(value: string | Uint8Array): Buffer {
  return typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
}

function writeBytes(header: Buffer, offset: number, length: number, bytes: Buffer): void {
  if (bytes.length > length) throw new Error(`tar field of ${length} bytes cannot hold ${bytes.length}`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, length, "latin1");
}

/** Octal while it fits in 11 digits; GNU base-256 beyond (8 GiB and up), as real tars do. */
function writeSize(header: Buffer, size: number): void {
  if (size < 8 ** 11) {
    writeOctal(header, 124, 12, size);
    return;
  }
  let rest = BigInt(size);
  for (let i = 135; i > 124; i--) {
    header[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  header[124] = 0x80;
}
