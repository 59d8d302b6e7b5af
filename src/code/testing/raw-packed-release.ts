/**
 * Packed release bytes for tests that will write anything packRelease never
 * would: lying lengths and counts, unknown kinds and modes, raw path bytes,
 * any order. Each field defaults to what an honest packer writes.
 */
export interface RawEntry {
  /** 1 file, 2 directory, 3 symlink, or anything else. */
  kind?: number;
  path: string | Uint8Array;
  /** Files only. */
  mode?: number;
  /** A file's data or a symlink's target; written for files and symlinks only. */
  body?: string | Uint8Array;
  /** The path length written instead of the true one. */
  pathLength?: number;
  /** The body length written instead of the true one. */
  bodyLength?: number;
}

export interface RawHeader {
  magic?: string;
  version?: number;
  /** The entry count written instead of the true one. */
  count?: number;
}

export function rawPackedRelease(entries: RawEntry[], header: RawHeader = {}): Buffer {
  const parts: Buffer[] = [
    Buffer.from(header.magic ?? "berthrel", "latin1"),
    u8(header.version ?? 1),
    u32(header.count ?? entries.length),
  ];
  for (const e of entries) {
    const kind = e.kind ?? 1;
    const path = Buffer.from(e.path);
    const body = Buffer.from(e.body ?? "");
    parts.push(u8(kind), u32(e.pathLength ?? path.length), path);
    if (kind === 1) parts.push(u16(e.mode ?? 0o644));
    if (kind !== 2) parts.push(u32(e.bodyLength ?? body.length), body);
  }
  return Buffer.concat(parts);
}

function u8(n: number): Buffer {
  return Buffer.from([n]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
