/** The longest line (in UTF-16 code units, marker included) a client is sent. */
export const MAX_LOG_LINE_LENGTH = 16_384;

/** Ends a line that was cut; says so in words, so nobody mistakes it for the program's output. */
export const TRUNCATION_MARKER = " …[truncated]";

export interface SanitizeOptions {
  /** Default MAX_LOG_LINE_LENGTH. */
  maxLength?: number;
  /** The caller already dropped the end of the line (e.g. the splitter's byte cap): mark it as cut. */
  truncated?: boolean;
}

/**
 * Makes one line of container output safe to show in a browser or terminal.
 *
 * - ANSI escape sequences are removed: CSI (`ESC [ … final`, colours and cursor
 *   moves), OSC (`ESC ] … BEL` or `ESC ] … ESC \`, titles and hyperlinks), the
 *   other string sequences (DCS `ESC P`, SOS `ESC X`, PM `ESC ^`, APC `ESC _`,
 *   up to ST) and the short ones (`ESC 7`, `ESC ( B`, `ESC =` …). A sequence
 *   left open at the end of the line swallows the rest, as in a terminal.
 * - Every other control character except tab — C0, DEL and the C1 range
 *   U+0080–U+009F, which some terminals obey as 8-bit CSI/OSC — becomes a
 *   visible `\xNN` (lowercase hex). We chose that over U+FFFD because it keeps
 *   what was there (a `\x07` bell, a `\x0d` progress-bar return) for the person
 *   debugging; the cost is that it looks like the same four characters typed
 *   literally. One trailing `\r` (CRLF output) is dropped rather than shown.
 * - Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) become
 *   `\u202e` and the like, so a line cannot display reordered text.
 * - A lone UTF-16 surrogate becomes U+FFFD.
 * - A line longer than `maxLength` is cut (never inside a surrogate pair) and
 *   ends with TRUNCATION_MARKER, staying within `maxLength`.
 *
 * Clean lines — the common case — are returned as they are, without copying.
 *
 * ```ts
 * sanitizeLogLine("\x1b[31merror\x1b[0m: bell\x07"); // "error: bell\\x07"
 * ```
 */
export function sanitizeLogLine(text: string, options: SanitizeOptions = {}): string {
  const maxLength = options.maxLength ?? MAX_LOG_LINE_LENGTH;
  const end = text.charCodeAt(text.length - 1) === CR ? text.length - 1 : text.length;
  let out = "";
  let runStart = 0;
  let i = 0;
  // Stop scanning once the output is sure to be cut; the rest cannot be shown anyway.
  while (i < end && out.length + (i - runStart) <= maxLength) {
    const code = text.charCodeAt(i);
    if (!needsCare(code)) {
      i++;
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const pairEnd = surrogatePairEnd(text, i, end);
      if (pairEnd > i) {
        i = pairEnd;
        continue;
      }
    }
    out += text.slice(runStart, i);
    if (code === ESC) {
      i = skipEscapeSequence(text, i + 1, end);
    } else {
      out += code >= 0xd800 && code <= 0xdfff ? "\ufffd" : escapeCode(code);
      i++;
    }
    runStart = i;
  }
  const scannedAll = i >= end;
  if (runStart === 0 && scannedAll && end === text.length && end <= maxLength && !options.truncated)
    return text;
  out += text.slice(runStart, scannedAll ? end : i);
  if (scannedAll && out.length <= maxLength && !options.truncated) return out;
  return cutLine(out, maxLength);
}

/** Cuts a line to `maxLength` (marker included), never inside a surrogate pair, and marks it as cut. */
export function cutLine(text: string, maxLength: number): string {
  let cut = Math.min(text.length, Math.max(0, maxLength - TRUNCATION_MARKER.length));
  if (cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
  return text.slice(0, cut) + TRUNCATION_MARKER;
}

function escapeCode(code: number): string {
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
}

const ESC = 0x1b;
const CR = 0x0d;
const TAB = 0x09;
const BEL = 0x07;
/** The 8-bit String Terminator. */
const ST = 0x9c;

function needsCare(code: number): boolean {
  if (code < 0x20) return code !== TAB;
  if (code < 0x7f) return false;
  if (code <= 0x9f) return true;
  if (code < 0x202a) return false;
  return code <= 0x202e || (code >= 0x2066 && code <= 0x2069) || (code >= 0xd800 && code <= 0xdfff);
}

/** Where the sequence starting after an ESC at `from - 1` ends (ECMA-48). */
function skipEscapeSequence(text: string, from: number, end: number): number {
  if (from >= end) return end;
  const introducer = text.charCodeAt(from);
  if (introducer === 0x5b /* [ */) {
    // CSI: parameter bytes 0x30–0x3F, intermediate bytes 0x20–0x2F, one final byte 0x40–0x7E.
    let i = from + 1;
    while (i < end) {
      const code = text.charCodeAt(i);
      if (code >= 0x40 && code <= 0x7e) return i + 1;
      // Anything else breaks the sequence off; the character is then judged on its own.
      if (code < 0x20 || code > 0x3f) return i;
      i++;
    }
    return end;
  }
  if (
    introducer === 0x5d /* ] OSC */ ||
    introducer === 0x50 /* P DCS */ ||
    introducer === 0x58 /* X SOS */ ||
    introducer === 0x5e /* ^ PM */ ||
    introducer === 0x5f /* _ APC */
  ) {
    // Control strings run to ST (ESC \ or 0x9C); xterm also ends them with BEL.
    for (let i = from + 1; i < end; i++) {
      const code = text.charCodeAt(i);
      if (code === BEL || code === ST) return i + 1;
      if (code === ESC && text.charCodeAt(i + 1) === 0x5c /* \ */) return i + 2;
    }
    return end;
  }
  // nF, Fp, Fe, Fs: intermediate bytes 0x20–0x2F, then one final byte 0x30–0x7E.
  let i = from;
  while (i < end && text.charCodeAt(i) >= 0x20 && text.charCodeAt(i) <= 0x2f) i++;
  if (i < end && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x7e) return i + 1;
  // A lone ESC (or one before a control character): drop the ESC alone.
  return from;
}

/** End of a valid surrogate pair at `i`, or `i` when the surrogate there is alone. */
function surrogatePairEnd(text: string, i: number, end: number): number {
  if (isHighSurrogate(text.charCodeAt(i)) && i + 1 < end) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return i + 2;
  }
  return i;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
