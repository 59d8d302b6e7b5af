import { compileIgnoreRule, type IgnoreRule } from "./ignore-rule.ts";
import { splitPath } from "./path-glob.ts";

/**
 * Decides which paths of a folder to leave out, from `.gitignore`-style
 * lines: the last rule that matches wins, and `!` re-includes. As in git, a
 * path inside a left-out folder stays out whatever a later `!` says, because
 * the folder is never looked into.
 *
 * @example
 *   const matcher = new IgnoreMatcher(["*.log", "!keep.log", "tmp/"]);
 *   matcher.ignores("logs/a.log", false); // true
 *   matcher.ignores("tmp/x/y.js", false); // true: inside the left-out folder tmp/
 */
export class IgnoreMatcher {
  readonly #rules: IgnoreRule[];

  constructor(lines: Iterable<string>) {
    this.#rules = [];
    for (const line of lines) {
      const rule = compileIgnoreRule(line);
      if (rule) this.#rules.push(rule);
    }
  }

  /** Whether the rules leave out `path` itself (its folders not consulted): what a walk that prunes needs. */
  matches(path: string, isDir: boolean): boolean {
    const names = splitPath(path);
    for (let i = this.#rules.length - 1; i >= 0; i--) {
      const rule = this.#rules[i]!;
      if (rule.dirOnly && !isDir) continue;
      if (rule.glob.matches(names)) return !rule.negated;
    }
    return false;
  }

  /** Whether `path` is left out, by a rule of its own or because one of its folders is. */
  ignores(path: string, isDir: boolean): boolean {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      if (this.matches(parts.slice(0, i).join("/"), true)) return true;
    }
    return this.matches(path, isDir);
  }
}
