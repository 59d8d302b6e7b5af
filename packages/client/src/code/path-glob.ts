import { bracketMatches, type GlobBracket, parseBracket } from "./glob-bracket.ts";

/** One unit of a name pattern: `*` (any run of characters), `?`, a bracket, or a literal character. */
type NameToken =
  | { kind: "star" }
  | { kind: "any" }
  | { kind: "bracket"; bracket: GlobBracket }
  | { kind: "literal"; ch: string };

/** One unit of a path pattern: `**` (any run of whole folders), or a pattern for exactly one name. */
type Segment = { kind: "globstar" } | { kind: "name"; tokens: NameToken[] };

/** Any one name: what a trailing `/**` needs before its run of folders (it matches inside, never the folder itself). */
const ANY_NAME: Segment = { kind: "name", tokens: [{ kind: "star" }] };

/**
 * A `.gitignore` glob compiled for matching without backtracking. It is
 * never turned into a regex (`*a*a*a*a*b` against a long name, or
 * `**​/**​/**​/x` against a deep path, took seconds to forever that
 * way): names are matched by the classic two-pointer star algorithm, and
 * paths segment by segment with the same algorithm one level up, `**`
 * playing the star. Each is at worst the product of the two lengths, and
 * names are at most 255 bytes.
 *
 * @example
 *   const glob = compilePathGlob("src/**​/*.test.js", true)!;
 *   glob.matches(splitPath("src/a/b.test.js")); // true
 */
export interface PathGlob {
  /** Whether the path (split by `splitPath`) matches the whole glob. */
  matches(path: readonly (readonly string[])[]): boolean;
}

/** A `/`-separated path as its names, each as code points: split once, asked of every rule. */
export function splitPath(path: string): string[][] {
  return path.split("/").map((name) => Array.from(name));
}

/**
 * Compiles `glob` (without the rule's `!`, trailing `/` and leading `/`):
 * anchored at the folder's root, or, when not, matching at any depth. Returns
 * undefined for a glob git could never match. As in gitignore(5), `**` spans
 * folders only as a whole segment (`**​/`, `/**​/`, `/**`); elsewhere it is a
 * `*`; `*`, `?` and brackets never match a `/`.
 */
export function compilePathGlob(glob: string, anchored: boolean): PathGlob | undefined {
  const segments = parseSegments(Array.from(glob));
  if (segments === undefined) return undefined;
  if (!anchored) segments.unshift({ kind: "globstar" });
  // `**/**/x` is `**/x`: collapsing keeps the matcher's work to what the path needs.
  const collapsed = segments.filter(
    (s, i) => !(s.kind === "globstar" && segments[i - 1]?.kind === "globstar"),
  );
  return { matches: (path) => matchSegments(collapsed, path) };
}

function parseSegments(glob: readonly string[]): Segment[] | undefined {
  const segments: Segment[] = [];
  let tokens: NameToken[] = [];
  let stars = 0;
  let onlyStars = true;
  const endSegment = (last: boolean) => {
    if (onlyStars && stars >= 2) {
      // A trailing `**` matches everything inside, so at least one name.
      if (last) segments.push(ANY_NAME);
      segments.push({ kind: "globstar" });
    } else {
      segments.push({ kind: "name", tokens });
    }
    tokens = [];
    stars = 0;
    onlyStars = true;
  };
  let i = 0;
  while (i < glob.length) {
    const ch = glob[i]!;
    if (ch === "/" || (ch === "\\" && glob[i + 1] === "/")) {
      // An escaped slash is still a slash: no name can hold one.
      endSegment(false);
      i += ch === "/" ? 1 : 2;
      continue;
    }
    if (ch === "*") {
      stars++;
      // Runs of stars are one star: fewer steps for the matcher, the same matches.
      if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
      i++;
      continue;
    }
    onlyStars = false;
    if (ch === "?") {
      tokens.push({ kind: "any" });
      i++;
    } else if (ch === "[") {
      const parsed = parseBracket(glob, i);
      if (parsed === undefined) return undefined;
      tokens.push({ kind: "bracket", bracket: parsed.bracket });
      i = parsed.end;
    } else if (ch === "\\") {
      if (i + 1 >= glob.length) return undefined;
      tokens.push({ kind: "literal", ch: glob[i + 1]! });
      i += 2;
    } else {
      tokens.push({ kind: "literal", ch });
      i++;
    }
  }
  endSegment(true);
  return segments;
}

function tokenMatches(token: NameToken, ch: string): boolean {
  switch (token.kind) {
    case "any":
      return true;
    case "literal":
      return token.ch === ch;
    case "bracket":
      return bracketMatches(token.bracket, ch);
    case "star":
      return false;
  }
}

/**
 * The two-pointer star match, for names (units: characters, star: `*`) and
 * for paths (units: names, star: `**`). On a mismatch it goes back only to
 * the last star, one unit further: a later star can take whatever an earlier
 * one could, so no earlier choice needs revisiting, and no input backtracks
 * exponentially.
 */
function starMatch<P, T>(
  pattern: readonly P[],
  text: readonly T[],
  isStar: (p: P) => boolean,
  unitMatches: (p: P, t: T) => boolean,
): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const unit = pattern[p];
    if (unit !== undefined && isStar(unit)) {
      starP = p++;
      starT = t;
    } else if (unit !== undefined && unitMatches(unit, text[t]!)) {
      p++;
      t++;
    } else if (starP === -1) {
      return false;
    } else {
      p = starP + 1;
      t = ++starT;
    }
  }
  while (p < pattern.length && isStar(pattern[p]!)) p++;
  return p === pattern.length;
}

const isStarToken = (token: NameToken) => token.kind === "star";
const isGlobstar = (segment: Segment) => segment.kind === "globstar";

function matchName(tokens: readonly NameToken[], name: readonly string[]): boolean {
  return starMatch(tokens, name, isStarToken, tokenMatches);
}

function matchSegments(segments: readonly Segment[], path: readonly (readonly string[])[]): boolean {
  return starMatch(segments, path, isGlobstar, (segment, name) =>
    segment.kind === "name" ? matchName(segment.tokens, name) : false,
  );
}
