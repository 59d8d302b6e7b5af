/** A compiled `[...]`: the code points it holds as inclusive `[low, high]` pairs, and whether it is negated. */
export interface GlobBracket {
  negate: boolean;
  ranges: number[];
}

/** The POSIX classes `[:name:]` git knows, as inclusive code point ranges (ASCII, as in git). */
const CLASSES: Record<string, readonly (readonly [string, string])[]> = {
  alnum: [
    ["a", "z"],
    ["A", "Z"],
    ["0", "9"],
  ],
  alpha: [
    ["a", "z"],
    ["A", "Z"],
  ],
  blank: [
    [" ", " "],
    ["\t", "\t"],
  ],
  cntrl: [
    ["\u0000", "\u001f"],
    ["\u007f", "\u007f"],
  ],
  digit: [["0", "9"]],
  graph: [["\u0021", "\u007e"]],
  lower: [["a", "z"]],
  print: [["\u0020", "\u007e"]],
  punct: [
    ["!", "/"],
    [":", "@"],
    ["[", "`"],
    ["{", "~"],
  ],
  space: [
    [" ", " "],
    ["\t", "\r"],
  ],
  upper: [["A", "Z"]],
  xdigit: [
    ["0", "9"],
    ["A", "F"],
    ["a", "f"],
  ],
};

/**
 * Parses the `[...]` starting at `glob[start]` (`glob` as code points): `!`
 * or `^` negates, a `]` first is literal, `a-z` ranges (a reversed one
 * matches nothing, as in git), `[:class:]`, `\` escapes. Returns the bracket
 * and the index after it, or undefined when git could never match it (an
 * unclosed `[`, an unknown class, a trailing backslash).
 *
 * @example
 *   parseBracket([..."[!a-c]x"], 0); // { bracket: { negate: true, ranges: [97, 99] }, end: 6 }
 */
export function parseBracket(
  glob: readonly string[],
  start: number,
): { bracket: GlobBracket; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (glob[i] === "!" || glob[i] === "^") {
    negate = true;
    i++;
  }
  const ranges: number[] = [];
  let first = true;
  while (i < glob.length) {
    let ch = glob[i]!;
    if (ch === "]" && !first) return { bracket: { negate, ranges }, end: i + 1 };
    first = false;
    if (ch === "[" && glob[i + 1] === ":") {
      const close = findClassEnd(glob, i + 2);
      if (close === -1) return undefined;
      const cls = CLASSES[glob.slice(i + 2, close).join("")];
      if (cls === undefined) return undefined;
      for (const [lo, hi] of cls) ranges.push(lo.codePointAt(0)!, hi.codePointAt(0)!);
      i = close + 2;
      continue;
    }
    if (ch === "\\") {
      i++;
      if (i >= glob.length) return undefined;
      ch = glob[i]!;
    }
    i++;
    let hi = ch;
    if (glob[i] === "-" && glob[i + 1] !== undefined && glob[i + 1] !== "]") {
      hi = glob[i + 1]!;
      i += 2;
      if (hi === "\\") {
        if (i >= glob.length) return undefined;
        hi = glob[i]!;
        i++;
      }
    }
    ranges.push(ch.codePointAt(0)!, hi.codePointAt(0)!);
  }
  return undefined;
}

function findClassEnd(glob: readonly string[], from: number): number {
  for (let i = from; i + 1 < glob.length; i++) if (glob[i] === ":" && glob[i + 1] === "]") return i;
  return -1;
}

/** Whether the bracket takes the code point `ch` (one character of a name). */
export function bracketMatches(bracket: GlobBracket, ch: string): boolean {
  const code = ch.codePointAt(0)!;
  let inside = false;
  for (let i = 0; i < bracket.ranges.length && !inside; i += 2) {
    inside = bracket.ranges[i]! <= code && code <= bracket.ranges[i + 1]!;
  }
  return inside !== bracket.negate;
}
