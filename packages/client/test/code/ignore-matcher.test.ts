import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { within } from "../../../../test/helpers/deadline.ts";
import { IgnoreMatcher } from "../../src/code/ignore-matcher.ts";

/**
 * Each case: the lines of an ignore file, then the paths to ask about (a
 * trailing `/` makes a folder). The expected answer is not written here: git
 * itself gives it (`git check-ignore --no-index`), so the matcher cannot drift
 * from the real syntax.
 */
const CASES: [string, string[], string[]][] = [
  ["plain name at any depth", ["foo"], ["foo", "a/foo", "a/b/foo/", "foobar", "a/xfoo"]],
  ["comments and blank lines", ["# foo", "", "   ", "bar"], ["foo", "# foo", "bar"]],
  ["escaped hash and bang", ["\\#lit", "\\!bang"], ["#lit", "!bang", "lit"]],
  ["trailing spaces dropped unless escaped", ["foo   ", "bar\\ "], ["foo", "bar ", "bar"]],
  ["negation re-includes", ["*.log", "!keep.log"], ["a.log", "keep.log", "d/keep.log", "d/a.log"]],
  ["a later rule wins", ["!a.txt", "*.txt"], ["a.txt", "b.txt"]],
  ["leading slash anchors", ["/top"], ["top", "a/top", "top/x"]],
  ["middle slash anchors", ["a/b"], ["a/b", "x/a/b", "a/b/c"]],
  ["trailing slash: folders only", ["build/"], ["build", "build/", "src/build/", "build/x.js"]],
  ["anchored folder", ["/out/"], ["out/", "out/x", "src/out/"]],
  ["star stays within a segment", ["a*z", "d/*"], ["az", "abcz", "a/z", "d/x", "d/x/y", "e/d/x"]],
  ["question mark", ["?.js"], ["a.js", "ab.js", "d/a.js"]],
  ["leading double star", ["**/logs"], ["logs", "a/logs", "a/b/logs/", "logs/x"]],
  [
    "leading double star with more",
    ["**/logs/debug.log"],
    ["logs/debug.log", "a/logs/debug.log", "debug.log"],
  ],
  ["trailing double star", ["abc/**"], ["abc", "abc/", "abc/x", "abc/x/y", "z/abc/x"]],
  ["middle double star", ["a/**/b"], ["a/b", "a/x/b", "a/x/y/b", "a/xb", "c/a/b"]],
  ["double star not alone is a star", ["a**b", "x/**y"], ["ab", "aXYb", "a/b", "x/y", "x/zy", "x/z/y"]],
  ["double star alone", ["**", "!keep"], ["a", "a/b", "keep"]],
  [
    "brackets",
    ["[abc].txt", "[!abc].md", "[^x]y", "[a-c]d"],
    ["a.txt", "d.txt", "a.md", "z.md", "xy", "zy", "bd", "dd"],
  ],
  [
    "bracket with ] first and classes",
    ["[]]x", "[[:digit:]]n", "[[:upper:]][[:lower:]]"],
    ["]x", "1n", "an", "Ab", "ab"],
  ],
  ["escaped metacharacters", ["\\*star", "q\\?", "\\[b]"], ["*star", "xstar", "q?", "qa", "[b]", "b"]],
  ["dot files", [".*", "!.berthignore"], [".env", ".berthignore", "a/.hidden", "x.y"]],
  [
    "negating inside an ignored folder does not re-include",
    ["dir/", "!dir/keep"],
    ["dir/", "dir/keep", "dir/other"],
  ],
  ["re-including a folder's contents by pattern", ["dir/*", "!dir/keep"], ["dir/keep", "dir/other"]],
  ["negated folder-only", ["tmp*", "!tmp/"], ["tmp", "tmp/", "tmpfile", "tmp/x"]],
  ["trailing slash on a pattern with a slash", ["a/b/"], ["a/b", "a/b/", "a/b/c"]],
  ["an escaped slash still anchors", ["a\\/b"], ["a/b", "x/a/b"]],
  ["a slash in a bracket anchors, and matches no slash", ["q[/x]z"], ["qxz", "d/qxz", "q/z"]],
  ["stars backtrack within a name", ["*a*a*b", "x*?y"], ["aab", "zazazb", "aaba", "ab", "xy", "xzy", "x/y"]],
  [
    "repeated double stars",
    ["**/**/x", "a/**/**/b", "c/**/**"],
    ["x", "d/x", "d/e/x", "a/b", "a/d/b", "a/d/e/b", "c", "c/d", "c/d/e"],
  ],
  ["double stars between names", ["a/**/m/**/z"], ["a/m/z", "a/b/m/c/z", "a/m/m/z", "a/z", "a/b/z"]],
];

describe("IgnoreMatcher", () => {
  const root = mkdtempSync(join(tmpdir(), "berth-ignore-"));
  afterAll(() => rm(root, { recursive: true, force: true }), 60_000);

  /** Our answers and git's for `paths` (a trailing `/` makes a folder), as path → ignored tables to compare. */
  const answers = (lines: string[], paths: string[]) => {
    const repo = mkdtempSync(join(root, "case-"));
    execFileSync("git", ["init", "-q", repo]);
    writeFileSync(join(repo, ".gitignore"), `${lines.join("\n")}\n`);
    const asked = paths.map((p) => ({ path: p.endsWith("/") ? p.slice(0, -1) : p, isDir: p.endsWith("/") }));
    // Make the tree so git knows what is a folder; a folder's contents imply it is one.
    const dirs = new Set(asked.filter((a) => a.isDir).map((a) => a.path));
    for (const a of asked) for (let d = dirname(a.path); d !== "."; d = dirname(d)) dirs.add(d);
    for (const d of dirs) mkdirSync(join(repo, d), { recursive: true });
    for (const a of asked) if (!dirs.has(a.path)) writeFileSync(join(repo, a.path), "");
    const byGit = gitIgnored(
      repo,
      asked.map((a) => a.path),
    );
    const matcher = new IgnoreMatcher(lines);
    const ours = asked.map((a) => matcher.ignores(a.path, dirs.has(a.path)));
    const table = (answers: boolean[]) => Object.fromEntries(asked.map((a, i) => [a.path, answers[i]]));
    return { ours: table(ours), git: table(asked.map((a) => byGit.has(a.path))) };
  };

  it.each(CASES)("agrees with git check-ignore on %s", (_what, lines, paths) => {
    const { ours, git } = answers(lines, paths);
    expect(ours).toEqual(git);
  });

  // Beyond the table: rule sets drawn from the syntax's pieces, judged by git. Seeded, so a failure repeats.
  it("agrees with git check-ignore on random rules and paths", () => {
    const random = seeded(11);
    const pieces = [
      "a",
      "b",
      "*",
      "**",
      "***",
      "?",
      "[ab]",
      "[!a]",
      "[[:lower:]]",
      "/",
      "/",
      "\\*",
      "\\/",
      "[/a]",
    ];
    const names = ["a", "b", "ab", "ba", "aa", "aab", "*"];
    for (let round = 0; round < 20; round++) {
      const lines = Array.from({ length: 3 }, () => {
        let line = (random(4) === 0 ? "!" : "") + (random(4) === 0 ? "/" : "");
        for (let n = 1 + random(4); n > 0; n--) line += pieces[random(pieces.length)];
        return line + (random(4) === 0 ? "/" : "");
      });
      const paths = Array.from({ length: 30 }, () =>
        Array.from({ length: 1 + random(4) }, () => names[random(names.length)]).join("/"),
      );
      const { ours, git } = answers(lines, [...new Set(paths)]);
      expect({ lines, answers: ours }).toEqual({ lines, answers: git });
    }
  });

  // Patterns that made the old regex matcher backtrack for seconds or forever.
  // No timing assertion: a linear matcher answers at once. A regression would
  // block the test's own thread, where no timeout can fire, so the matcher
  // runs in a worker that the test's deadline ends.
  it.each([
    ["stars in a name", "*a*a*a*a*a*a*b", "a".repeat(60), "b"],
    ["stars in a long name", "*a*a*a*a*a*a*a*a*a*a*a*a*b", "a".repeat(254), "b"],
    ["double stars on a deep path", "**/**/**/**/**/**/x", Array(60).fill("a").join("/"), "/x"],
    ["double stars between names", "a/**/a/**/a/**/a/**/a/**/b", Array(200).fill("a").join("/"), "/b"],
    [
      "both, with long names",
      "**/*a*a*a*a*a*a*b/**/x",
      Array(30).fill("a".repeat(255)).join("/"),
      "/aaaaaab/c/x",
    ],
  ])("answers at once for a pathological pattern: %s", async (_what, pattern, path, tail) => {
    const answers = await within(
      15_000,
      `the matcher's answer for ${pattern}`,
      ignoresInWorker(pattern, [path, `${path}${tail}`]),
    );
    expect(answers).toEqual([false, true]);
  });

  it("leaves nothing out without rules", () => {
    expect(new IgnoreMatcher([]).ignores("a/b.js", false)).toBe(false);
  });

  it("ignores a pattern git can never match instead of throwing", () => {
    const matcher = new IgnoreMatcher(["[abc", "trail\\"]);
    expect(matcher.ignores("[abc", false)).toBe(false);
    expect(matcher.ignores("a", false)).toBe(false);
  });
});

/** `new IgnoreMatcher([pattern]).ignores(path, false)` for each path, asked in a worker thread that is ended however it goes. */
async function ignoresInWorker(pattern: string, paths: string[]): Promise<boolean[]> {
  const matcherUrl = new URL("../../src/code/ignore-matcher.ts", import.meta.url).href;
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
    import(workerData.matcherUrl).then(({ IgnoreMatcher }) => {
      const matcher = new IgnoreMatcher([workerData.pattern]);
      parentPort.postMessage(workerData.paths.map((p) => matcher.ignores(p, false)));
    });`,
    { eval: true, workerData: { matcherUrl, pattern, paths } },
  );
  try {
    return await new Promise<boolean[]>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}

/** A small seeded generator (an LCG): `random(n)` is in [0, n). */
function seeded(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
}

/** The paths git leaves out; `-z` keeps odd names intact, `--no-index` judges tracked and untracked alike. */
function gitIgnored(repo: string, paths: string[]): Set<string> {
  let out = "";
  try {
    out = execFileSync("git", ["-C", repo, "check-ignore", "--no-index", "-z", "--stdin"], {
      input: paths.map((p) => `${p}\0`).join(""),
      encoding: "utf8",
    });
  } catch (err) {
    // Exit status 1: none of the paths is ignored.
    if ((err as { status?: number }).status !== 1) throw err;
  }
  return new Set(out.split("\0").filter((p) => p !== ""));
}
