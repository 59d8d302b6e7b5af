import { BerthError } from "./berth-error.ts";
import type { CodeUpload, ServerInfo } from "./protocol/index.ts";

/** Bytes of `text` in UTF-8, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function isBinary(value: unknown): value is ArrayBufferView | ArrayBuffer {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

/**
 * About how many bytes Socket.IO sends for `value`: its JSON, with each
 * binary part (a Buffer, a Uint8Array) counted at its own size, since
 * Socket.IO carries those as attachments rather than as JSON arrays. Close
 * enough to refuse what berth would refuse; it errs on the large side only
 * by the JSON escapes it counts as one byte.
 */
export function wireBytes(value: unknown): number {
  if (value === null || value === undefined) return 4;
  if (typeof value === "string") return utf8Length(value) + 2;
  if (typeof value === "number" || typeof value === "boolean") return String(value).length;
  if (isBinary(value)) return value.byteLength + 32;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + wireBytes(v) + 1, 2);
  if (typeof value === "object") {
    let n = 2;
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === "function") continue;
      n += utf8Length(k) + 4 + wireBytes(v);
    }
    return n;
  }
  return 0;
}

/** The size and file count of code as berth counts them: file contents (or the archive) in bytes. */
export function codeSize(code: CodeUpload): { bytes: number; files: number } {
  if (code.archive !== undefined) return { bytes: code.archive.byteLength, files: 0 };
  let bytes = 0;
  let files = 0;
  for (const content of Object.values(code.files ?? {})) {
    files++;
    bytes += typeof content === "string" ? utf8Length(content) : content.byteLength;
  }
  return { bytes, files };
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}

/**
 * Refuses, before anything is sent, a payload berth would refuse: above the
 * transport limit berth closes the connection (Socket.IO's own behaviour)
 * instead of answering, so the client must not send it; code above the code
 * limits would be answered VALIDATION_FAILED after a long upload. Names both
 * limits and the size, so that the caller knows how much to leave out.
 */
export function checkPayload(
  event: string,
  payload: unknown,
  limits: ServerInfo["limits"] | undefined,
): void {
  if (!limits) return;
  const code = (payload as { code?: CodeUpload } | null)?.code;
  const limitsText = `berth's limits: ${mib(limits.maxPayloadBytes)} per message (maxPayloadBytes), ${mib(limits.maxCodeBytes)} and ${limits.maxCodeFiles} files of code (maxCodeBytes, maxCodeFiles)`;
  if (code && typeof code === "object") {
    const { bytes, files } = codeSize(code);
    if (code.archive === undefined && bytes > limits.maxCodeBytes)
      throw tooLarge(`${event}: the code is ${mib(bytes)}, over ${limitsText}; send less code`, {
        codeBytes: bytes,
      });
    if (files > limits.maxCodeFiles)
      throw tooLarge(`${event}: the code has ${files} files, over ${limitsText}; send fewer files`, {
        codeFiles: files,
      });
  }
  const bytes = wireBytes(payload);
  if (bytes > limits.maxPayloadBytes)
    throw tooLarge(
      `${event}: the payload is ${mib(bytes)}, over ${limitsText}; berth would close the connection, so it was not sent`,
      { payloadBytes: bytes },
    );

  function tooLarge(message: string, measured: Record<string, number>): BerthError {
    return BerthError.client("PAYLOAD_TOO_LARGE", message, {
      details: {
        ...measured,
        maxPayloadBytes: limits!.maxPayloadBytes,
        maxCodeBytes: limits!.maxCodeBytes,
        maxCodeFiles: limits!.maxCodeFiles,
      },
    });
  }
}
