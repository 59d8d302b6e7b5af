/**
 * How deep free JSON may nest, in objects and arrays (`[]` is depth 1). Deep
 * enough for any real document; shallow enough that every recursive walk
 * berth or its libraries make (zod, Socket.IO's binary check, JSON.stringify,
 * the health check's partial match) stays far from the stack's limit. JSON
 * text of 1 MiB can nest 500,000 deep: JSON.parse accepts it (V8's parser is
 * iterative), and the first recursive walk over the result overflows.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Why `value` is not plain JSON data nested at most `maxDepth` deep, or
 * undefined when it is. Refuses binary (Socket.IO carries Buffers as
 * attachments), functions, symbols, bigints and an undefined top value. Walks with its own
 * stack, never recursing, and stops at the first problem, so a payload built
 * to be deep costs at most `maxDepth` steps down one branch.
 */
export function jsonValueProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  if (value === undefined) return "must be JSON data";
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop() as number;
    if (v === null) continue;
    const type = typeof v;
    if (type !== "object") {
      // undefined inside an array or object is what JSON.stringify writes as null or leaves out.
      if (type === "function" || type === "symbol" || type === "bigint") return "must be JSON data";
      continue;
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return "must be JSON data (no binary)";
    if (depth >= maxDepth) return `must nest at most ${maxDepth} levels deep`;
    if (Array.isArray(v)) {
      for (const item of v) {
        values.push(item);
        depths.push(depth + 1);
      }
    } else {
      for (const key in v) {
        values.push((v as Record<string, unknown>)[key]);
        depths.push(depth + 1);
      }
    }
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether JSON text nests objects and arrays more than `maxDepth` deep,
 * checked before it is parsed. One pass without recursion; strings are
 * jumped over with indexOf (native), so what costs is only the text between
 * strings — the brackets, colons, commas and numbers. Text that is not valid
 * JSON may get either answer: JSON.parse refuses it afterwards anyway.
 */
export function jsonTextTooDeep(text: string, maxDepth: number): boolean {
  let depth = 0;
  const end = text.length;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i === -1) return false;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that closes the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return -1;
}
