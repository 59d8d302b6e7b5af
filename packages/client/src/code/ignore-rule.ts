/** One line of a `.berthignore`, compiled. */
export interface IgnoreRule {
  /** The line as written, for messages. */
  source: string;
  /** `!pattern`: a match re-includes what an earlier rule left out. */
  negated: boolean;
  /** `pattern/`: matches folders only. */
  dirOnly: boolean;
  /** Matches a path relative to the folder, `/`-separated, without a trailing slash. */
  regex: RegExp;
}

const CLASSES: Record<string, string> = {
  alnum: "a-zA-Z0-9",
  alpha: "a-zA-Z",
  blank: " \\t",
  cntrl: "\\x00-\\x1f\\x7f",
  digit: "0-9",
  graph: "\\x21-\\x7e",
  lower: "a-z",
  print: "\\x20-\\x7e",
  punct: "!-\\/:-@\\[-`{-~",
  space: " \\t\\n\\r\\f\\v",
  upper: "A-Z",
  xdigit: "0-9A-Fa-f",
};

/**
 * Compiles one line of `.gitignore` syntax, or returns undefined for a blank
 * line, a comment, or a pattern git itself could never match (an unclosed
 * `[`, a trailing backslash). Follows gitignore(5): a pattern with a slash
 * at its start or middle is anchored at the folder, otherwise it matches at
 * any depth; `**` spans folders only as `**​/`, `/**​/` or `/**`; `*`, `?` and
 * `[...]` never match a slash.
 *
 * @example
 *   compileIgnoreRule("/build/")?.regex.test("build"); // true (and only for a folder: dirOnly)
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
  const slash = findUnescapedSlash(text);
  const anchored = slash !== -1;
  if (text.startsWith("/")) text = text.slice(1);
  const body = globToRegex(text);
  if (body === undefined) return undefined;
  const regex = new RegExp(`^${anchored ? "" : "(?:.*/)?"}${body}$`, "s");
  return { source: line, negated, dirOnly, regex };
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

function findUnescapedSlash(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === "/") return i;
  }
  return -1;
}

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/** The glob as a regex body, or undefined when git would never match it. */
function globToRegex(glob: string): string | undefined {
  let out = "";
  let i = 0;
  while (i < glob.length) {
    const ch = glob[i]!;
    if (ch === "*") {
      let end = i;
      while (glob[end] === "*") end++;
      const atStart = i === 0 || glob[i - 1] === "/";
      const atEnd = end === glob.length || glob[end] === "/";
      if (end - i >= 2 && atStart && atEnd) {
        if (end === glob.length) {
          // `dir/**`: everything inside (the preceding slash is already in `out`); `**` alone: everything.
          out += ".*";
        } else {
          // `**/`: zero or more whole folders.
          out += "(?:.*/)?";
          end++;
        }
      } else {
        out += "[^/]*";
      }
      i = end;
    } else if (ch === "?") {
      out += "[^/]";
      i++;
    } else if (ch === "[") {
      const bracket = parseBracket(glob, i);
      if (bracket === undefined) return undefined;
      out += bracket.regex;
      i = bracket.end;
    } else if (ch === "\\") {
      if (i + 1 >= glob.length) return undefined;
      out += escapeRegex(glob[i + 1]!);
      i += 2;
    } else {
      out += escapeRegex(ch);
      i++;
    }
  }
  return out;
}

/** A `[...]` expression starting at `start`: `!` or `^` negates, `]` first is literal, ranges and `[:class:]`. */
function parseBracket(glob: string, start: number): { regex: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (glob[i] === "!" || glob[i] === "^") {
    negate = true;
    i++;
  }
  let set = "";
  let first = true;
  while (i < glob.length) {
    let ch = glob[i]!;
    if (ch === "]" && !first) {
      // A bracket never matches a slash, negated or not.
      return { regex: negate ? `[^/${set}]` : `(?!/)[${set}]`, end: i + 1 };
    }
    first = false;
    if (ch === "[" && glob[i + 1] === ":") {
      const close = glob.indexOf(":]", i + 2);
      if (close === -1) return undefined;
      const cls = CLASSES[glob.slice(i + 2, close)];
      if (cls === undefined) return undefined;
      set += cls;
      i = close + 2;
      continue;
    }
    if (ch === "\\") {
      i++;
      if (i >= glob.length) return undefined;
      ch = glob[i]!;
    }
    i++;
    if (glob[i] === "-" && glob[i + 1] !== undefined && glob[i + 1] !== "]") {
      let hi = glob[i + 1]!;
      i += 2;
      if (hi === "\\") {
        if (i >= glob.length) return undefined;
        hi = glob[i]!;
        i++;
      }
      // A reversed range matches nothing, as in git; keep the set valid for RegExp.
      if (hi < ch) continue;
      set += `${escapeClass(ch)}-${escapeClass(hi)}`;
    } else {
      set += escapeClass(ch);
    }
  }
  return undefined;
}

function escapeClass(ch: string): string {
  return /[\\\]^-]/.test(ch) ? `\\${ch}` : ch;
}
