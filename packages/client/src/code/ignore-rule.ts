import { compilePathGlob, type PathGlob } from "./path-glob.ts";

/** One line of a `.berthignore`, compiled. */
export interface IgnoreRule {
  /** The line as written, for messages. */
  source: string;
  /** `!pattern`: a match re-includes what an earlier rule left out. */
  negated: boolean;
  /** `pattern/`: matches folders only. */
  dirOnly: boolean;
  /** Matches a path relative to the folder (split by `splitPath`), without a trailing slash. */
  glob: PathGlob;
}

/**
 * Compiles one line of `.gitignore` syntax, or returns undefined for a blank
 * line, a comment, or a pattern git itself could never match (an unclosed
 * `[`, a trailing backslash). Follows gitignore(5): a pattern with a slash
 * at its start or middle (escaped or in a bracket too, as git counts it) is
 * anchored at the folder, otherwise it matches at any depth; `**` spans
 * folders only as `**​/`, `/**​/` or `/**`; `*`, `?` and `[...]` never
 * match a slash. Matching never backtracks (see `compilePathGlob`): at
 * worst the pattern's length times the path's, whatever a `.berthignore` holds.
 *
 * @example
 *   compileIgnoreRule("/build/")?.glob.matches(splitPath("build")); // true (dirOnly: folders only)
 */
export function compileIgnoreRule(line: string): IgnoreRule | undefined {
  let text = trimTrailingSpaces(line.endsWith("\r") ? line.slice(0, -1) : line);
  if (text === "" || text.startsWith("#")) return undefined;
  const negated = text.startsWith("!");
  if (negated) text = text.slice(1);
  let dirOnly = false;
  if (text.endsWith("/") && !isEscaped(text, text.length - 1)) {
    dirOnly = true;
    text = text.slice(0, -1);
  }
  if (text === "") return undefined;
  // git anchors on any slash left, escaped or not (dir.c looks for the byte).
  const anchored = text.includes("/");
  if (text.startsWith("/")) text = text.slice(1);
  const glob = compilePathGlob(text, anchored);
  if (glob === undefined) return undefined;
  return { source: line, negated, dirOnly, glob };
}

/** git drops trailing spaces unless the last one is escaped with a backslash. */
function trimTrailingSpaces(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === " " && !isEscaped(text, end - 1)) end--;
  return text.slice(0, end);
}

/** Whether the character at `index` follows an odd number of backslashes. */
function isEscaped(text: string, index: number): boolean {
  let n = 0;
  for (let i = index - 1; i >= 0 && text[i] === "\\"; i--) n++;
  return n % 2 === 1;
}
