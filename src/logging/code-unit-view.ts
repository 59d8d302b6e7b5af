/**
 * modern-ahocorasick matches whole grapheme clusters, so a secret followed by
 * a combining mark (`s3cr3t\u0301`), a zero-width joiner or a variation
 * selector — or a secret ending in `\r` before a `\n` — would not be found:
 * its last character is not a cluster of its own there. A redactor must match
 * code units, not what a reader sees as characters.
 *
 * The view rewrites a text so that every UTF-16 code unit is a cluster of its
 * own: ASCII other than CR stays as it is (no grapheme rule joins two such
 * characters), and every other code unit `c` becomes the private-use code
 * point U+F0000 + c (two code units, always a cluster of its own). Patterns
 * go through the same rewriting, so matching in the view is matching code
 * units in the original; `toOriginal` maps a view offset back.
 *
 * Plain ASCII — almost every log line — is returned as it is, without copying.
 */
export interface CodeUnitView {
  text: string;
  /** The original offset of view offset `i` (0 ≤ i ≤ text.length). */
  toOriginal(i: number): number;
}

/** Anything that must be rewritten: CR and every non-ASCII code unit. */
const NEEDS_REWRITE = /[\r\u0080-\uffff]/;

export function codeUnitView(text: string): CodeUnitView {
  if (!NEEDS_REWRITE.test(text)) return { text, toOriginal: (i) => i };
  const units = new Uint16Array(text.length * 2);
  const map = new Int32Array(text.length * 2 + 1);
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    map[v] = i;
    if (code < 0x80 && code !== 0x0d) {
      units[v++] = code;
      continue;
    }
    // U+F0000 + code as a surrogate pair: plane 15, so the high half is 0xDB80 + (code >> 10).
    units[v++] = HIGH_BASE + (code >> 10);
    map[v] = i;
    units[v++] = 0xdc00 + (code & 0x3ff);
  }
  map[v] = text.length;
  let out = "";
  for (let at = 0; at < v; at += CHUNK)
    out += String.fromCharCode(...units.subarray(at, Math.min(v, at + CHUNK)));
  return { text: out, toOriginal: (i) => map[i] ?? text.length };
}

/** The high surrogate of U+F0000. */
const HIGH_BASE = 0xdb80;
/** Code units per String.fromCharCode call: well under any engine's argument limit. */
const CHUNK = 8192;

/** A pattern as it appears in a view. */
export function inView(pattern: string): string {
  return codeUnitView(pattern).text;
}
