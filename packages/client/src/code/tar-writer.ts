import type { CodeEntry } from "./code-entry.ts";

const BLOCK = 512;
const encoder = new TextEncoder();

/**
 * Writes code entries as a POSIX ustar archive, the subset berth's reader
 * takes: regular files (0644, or 0755 when executable), folders and
 * symlinks, with a pax header for a name or link target that does not fit
 * ustar's fields. Owner, group and times are zero: a release does not keep
 * them, and a fixed output makes the archive reproducible.
 *
 * @example
 *   const tar = writeTar([{ kind: "file", path: "index.js", content: bytes, executable: false }]);
 */
export function writeTar(entries: Iterable<CodeEntry>): Uint8Array {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const push = (chunk: Uint8Array) => {
    chunks.push(chunk);
    length += chunk.length;
  };
  for (const entry of entries) {
    const name = entry.kind === "dir" ? `${entry.path}/` : entry.path;
    const linkname = entry.kind === "symlink" ? entry.target : "";
    const data = entry.kind === "file" ? entry.content : new Uint8Array(0);
    const fields = splitName(name);
    const linkFits = encoder.encode(linkname).length <= 100;
    if (fields === undefined || !linkFits) {
      const records: Record<string, string> = {};
      if (fields === undefined) records.path = name;
      if (!linkFits) records.linkpath = linkname;
      const pax = paxData(records);
      push(header({ name: "PaxHeader", prefix: "", type: "x", mode: 0o644, size: pax.length, linkname: "" }));
      pushData(push, pax);
    }
    const type = entry.kind === "file" ? "0" : entry.kind === "dir" ? "5" : "2";
    const mode =
      entry.kind === "file" ? (entry.executable ? 0o755 : 0o644) : entry.kind === "dir" ? 0o755 : 0o777;
    push(
      header({
        ...(fields ?? { name: truncate(name, 100), prefix: "" }),
        type,
        mode,
        size: data.length,
        linkname: linkFits ? linkname : "",
      }),
    );
    pushData(push, data);
  }
  // The end-of-archive marker: two zero blocks.
  push(new Uint8Array(2 * BLOCK));
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function pushData(push: (chunk: Uint8Array) => void, data: Uint8Array): void {
  if (data.length === 0) return;
  push(data);
  const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
  if (pad > 0) push(new Uint8Array(pad));
}

/** ustar's name (100 bytes) and prefix (155 bytes), split at a slash; undefined when it needs a pax header. */
function splitName(name: string): { name: string; prefix: string } | undefined {
  const bytes = encoder.encode(name);
  if (bytes.length <= 100) return { name, prefix: "" };
  for (let i = name.indexOf("/"); i !== -1; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && rest.length > 0 && encoder.encode(rest).length <= 100) {
      return { name: rest, prefix };
    }
  }
  return undefined;
}

/** A placeholder name for readers that ignore pax: cut on a character, never inside one. */
function truncate(text: string, maxBytes: number): string {
  let out = "";
  for (const ch of text) {
    if (encoder.encode(out + ch).length > maxBytes) break;
    out += ch;
  }
  return out;
}

/** pax records are `"<length> <key>=<value>\n"`, where the length counts the whole record, itself included. */
function paxData(records: Record<string, string>): Uint8Array {
  let text = "";
  for (const [key, value] of Object.entries(records)) {
    const rest = ` ${key}=${value}\n`;
    const restBytes = encoder.encode(rest).length;
    let size = restBytes + 1;
    while (String(size).length + restBytes !== size) size = String(size).length + restBytes;
    text += `${size}${rest}`;
  }
  return encoder.encode(text);
}

interface HeaderFields {
  name: string;
  prefix: string;
  type: string;
  mode: number;
  size: number;
  linkname: string;
}

function header(fields: HeaderFields): Uint8Array {
  const block = new Uint8Array(BLOCK);
  block.set(encoder.encode(fields.name), 0);
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, 0); // mtime
  block[156] = fields.type.charCodeAt(0);
  block.set(encoder.encode(fields.linkname), 157);
  block.set(encoder.encode("ustar\u000000"), 257);
  block.set(encoder.encode(fields.prefix), 345);
  // The checksum is summed with its own field read as eight spaces.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeOctal(block, 148, 7, sum);
  block[155] = 0x20;
  return block;
}

/** Zero-padded octal, NUL-terminated, in `width` bytes (a file of 8 GiB or more would need base-256; code never is). */
function writeOctal(block: Uint8Array, offset: number, width: number, value: number): void {
  const text = value.toString(8).padStart(width - 1, "0");
  block.set(encoder.encode(text), offset);
  block[offset + width - 1] = 0;
}
