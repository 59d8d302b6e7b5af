/** Bytes (UTF-8) of a feed entry's output at most, marker included: an entry is stored, kept and paged through. */
export const FEED_OUTPUT_BYTES = 2048;
/** Lines of output at most, however short. */
export const FEED_OUTPUT_LINES = 20;

const encoder = new TextEncoder();
const bytes = (s: string) => encoder.encode(s).length;

/**
 * The last lines of a failed release's output (as its owner was shown them:
 * sanitised, redacted) that a feed entry keeps. Whole lines from the end, at
 * most FEED_OUTPUT_LINES and FEED_OUTPUT_BYTES in UTF-8 all told, so that an
 * entry costs the store (10,000 per owner) and a history page a few KiB, not
 * 20 KB. Lines left out are said so by a first line `… N earlier lines left
 * out`; a last line longer than the budget on its own keeps its start, cut at
 * a character and ending in `…`.
 *
 * @example
 * feedOutput(["starting", "Error: boom"]); // ["starting", "Error: boom"]
 * feedOutput(Array.from({ length: 30 }, (_, i) => `line ${i}`))[0]; // "… 10 earlier lines left out"
 */
export function feedOutput(output: unknown): string[] | undefined {
  if (!Array.isArray(output)) return undefined;
  const lines = output.filter((line): line is string => typeof line === "string");
  const kept: string[] = [];
  // The marker's room is kept aside whenever a line might be left out, so that the total never passes the budget.
  const markerRoom = bytes(marker(lines.length));
  let used = 0;
  for (let i = lines.length - 1; i >= 0 && kept.length < FEED_OUTPUT_LINES; i--) {
    const line = lines[i] as string;
    const size = bytes(line) + 1; // and its line break, as a reader joins them
    const room = FEED_OUTPUT_BYTES - (i > 0 ? markerRoom : 0);
    if (used + size > room) {
      if (kept.length === 0) kept.push(cutAt(line, room - 1));
      break;
    }
    kept.push(line);
    used += size;
  }
  kept.reverse();
  const left = lines.length - kept.length;
  return left > 0 ? [marker(left), ...kept] : kept;
}

function marker(left: number): string {
  return `… ${left} earlier line${left === 1 ? "" : "s"} left out`;
}

/** The line's start within `max` UTF-8 bytes, at a character boundary, marked with "…" (3 bytes). */
function cutAt(line: string, max: number): string {
  let out = "";
  let used = 0;
  for (const ch of line) {
    const size = bytes(ch);
    if (used + size > max - 3) break;
    out += ch;
    used += size;
  }
  return `${out}…`;
}
