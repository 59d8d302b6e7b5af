#!/usr/bin/env node
// Compiles one of berth's packages (packages/<name>/src → packages/<name>/lib)
// with TypeScript's tsc: JavaScript and declarations for Node.js 20 (es2022).
//
//   node scripts/build-package.mjs <packageDir> [--cjs] [--force]
//   import { buildPackage } from "./build-package.mjs"; await buildPackage(dir, { cjs: true });
//
// ESM goes to lib/ (lib/esm with --cjs); with --cjs, CommonJS goes to lib/cjs, whose own
// package.json says "type": "commonjs" so Node and tsc read its .js and .d.ts
// as CommonJS. A hash of the sources, the package.json, this script, the
// compiler's version and the build of each @berth/* dependency (its own
// lib/.build-hash: the CLI compiles against the client's declarations) is
// kept in lib/.build-hash: an unchanged package is not rebuilt. Each build
// happens in a folder of its own and is renamed into place, so two builds at
// once (two test runs, a test run and `npm run build`) never write into each
// other's output. Plain JavaScript on purpose: set-up runs it on the machine's Node 20.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tscEntry = join(root, "node_modules", "typescript", "bin", "tsc");

/** Every file under `dir` but tests, sorted: what a build is made from. */
export function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (entry.isFile() && !entry.name.endsWith(".test.ts")) out.push(p);
  }
  return out.sort();
}

/** The folders of the package's @berth/* dependencies, which are built before it (packages/<name>). */
function berthDependencies(pkgDir) {
  const manifest = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  return Object.keys(manifest.dependencies ?? {})
    .filter((name) => name.startsWith("@berth/"))
    .sort()
    .map((name) => join(root, "packages", name.slice("@berth/".length)));
}

/** What the output depends on; a change to any of it means a rebuild. */
export function sourceHash(pkgDir, { cjs = false } = {}) {
  const hash = createHash("sha256");
  hash.update(`cjs=${cjs}\n`);
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  hash.update(readFileSync(join(root, "node_modules", "typescript", "package.json")));
  hash.update(readFileSync(join(pkgDir, "package.json")));
  for (const dep of berthDependencies(pkgDir)) {
    // The dependency's build as this package compiles against it: unbuilt, or built from which sources.
    const depHash = join(dep, "lib", ".build-hash");
    hash.update(
      `${relative(root, dep)}=${existsSync(depHash) ? readFileSync(depHash, "utf8") : "unbuilt"}\n`,
    );
  }
  for (const file of sourceFiles(join(pkgDir, "src"))) {
    hash.update(`${relative(pkgDir, file)}\n`);
    hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}

function compilerOptions(outDir) {
  return {
    target: "es2022",
    lib: ["es2022"],
    module: "nodenext",
    moduleResolution: "nodenext",
    types: ["node"],
    typeRoots: [join(root, "node_modules", "@types")],
    strict: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    verbatimModuleSyntax: true,
    erasableSyntaxOnly: true,
    isolatedModules: true,
    // Sources import each other as `./x.ts` (Node runs them as they are); the output must say `./x.js`.
    rewriteRelativeImportExtensions: true,
    declaration: true,
    sourceMap: false,
    skipLibCheck: true,
    outDir,
  };
}

function tsc(configPath) {
  const r = spawnSync(process.execPath, [tscEntry, "-p", configPath], { encoding: "utf8" });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`tsc failed for ${configPath}:\n${(r.stdout + r.stderr).trim()}`);
  }
}

/** tsc may keep `.ts` in a declaration's relative specifiers; a consumer needs `.js`. */
function fixDeclarationSpecifiers(dir) {
  for (const file of sourceFiles(dir)) {
    if (!file.endsWith(".d.ts")) continue;
    const text = readFileSync(file, "utf8");
    const fixed = text.replace(
      /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.ts(["'])/g,
      (_m, head, path, tail) => `${head}${path}.js${tail}`,
    );
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

/**
 * Builds `pkgDir` unless its lib/ is up to date; returns whether it built.
 * `cjs` adds the CommonJS build; `force` builds even when nothing changed.
 */
export function buildPackage(pkgDir, options = {}) {
  pkgDir = resolve(pkgDir);
  return whileHolding(join(pkgDir, ".build.lock"), () => buildUnlocked(pkgDir, options));
}

/** The longest a build may hold its lock: a lock older than this was left by a build that died. */
const LOCK_STALE_MS = 5 * 60_000;

/**
 * Runs `fn` holding a lock on the package (a directory made atomically), so
 * that two builds of one package — two test runs, the layout test's own
 * parallel builds — compile one after the other: the second then finds the
 * first's output up to date, and neither renames a lib/ the other is reading.
 */
export function whileHolding(lock, fn) {
  const waitUntil = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > waitUntil) throw new Error(`another build holds ${lock}`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // a synchronous sleep
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function buildUnlocked(pkgDir, { cjs = false, force = false }) {
  const lib = join(pkgDir, "lib");
  const hashFile = join(lib, ".build-hash");
  const want = sourceHash(pkgDir, { cjs });
  if (!force && existsSync(hashFile) && readFileSync(hashFile, "utf8") === want) return false;
  // A folder of this build's own, inside the package so that its dependencies resolve.
  const work = mkdtempSync(join(pkgDir, ".build-"));
  const built = join(work, "lib");
  try {
    const passes = [{ format: "esm", type: "module" }];
    if (cjs) passes.push({ format: "cjs", type: "commonjs" });
    for (const { format, type } of passes) {
      // tsc picks each file's module format from the nearest package.json, so
      // each pass compiles a copy of the sources under a package.json of its
      // own type; the copy sits inside the package so dependencies resolve.
      const dir = join(work, format);
      cpSync(join(pkgDir, "src"), join(dir, "src"), {
        recursive: true,
        filter: (p) => !p.endsWith(".test.ts"),
      });
      writeFileSync(join(dir, "package.json"), `${JSON.stringify({ type })}\n`);
      // An ESM-only package (the CLI) keeps its output at lib/ itself, where its `bin` points.
      const out = cjs ? join(built, format) : built;
      const config = join(dir, "tsconfig.json");
      writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: {
            ...compilerOptions(out),
            rootDir: join(dir, "src"),
            // ESM syntax in a CommonJS file is exactly what this pass converts.
            verbatimModuleSyntax: format === "esm",
          },
          include: [join(dir, "src")],
        }),
      );
      tsc(config);
      fixDeclarationSpecifiers(out);
      if (cjs) writeFileSync(join(out, "package.json"), `${JSON.stringify({ type })}\n`);
    }
    writeFileSync(join(built, ".build-hash"), want);
    replaceDirectory(built, lib, join(work, "old"));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return true;
}

/**
 * Puts the finished `built` in place of `target`: the old one is renamed
 * aside (into the build's own folder, removed with it), the new one renamed
 * in, so that no reader sees a half-written lib/, only for an instant none.
 * When another build put its lib/ in place between the two renames, that
 * one stays: both come from the same sources, or the later run rebuilds.
 */
function replaceDirectory(built, target, aside) {
  if (existsSync(target)) {
    try {
      renameSync(target, aside);
    } catch (err) {
      if (err.code !== "ENOENT") throw err; // another build moved it aside first
    }
  }
  try {
    renameSync(built, target);
  } catch (err) {
    if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
  }
}

/** Whether `pkgDir/lib` is older than its sources; for callers that only want to know. */
export function isBuilt(pkgDir, options = {}) {
  const hashFile = join(resolve(pkgDir), "lib", ".build-hash");
  return (
    existsSync(hashFile) &&
    statSync(hashFile).isFile() &&
    readFileSync(hashFile, "utf8") === sourceHash(pkgDir, options)
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith("--"));
  if (!dir) {
    process.stderr.write("usage: node scripts/build-package.mjs <packageDir> [--cjs] [--force]\n");
    process.exit(2);
  }
  try {
    const built = buildPackage(dir, { cjs: args.includes("--cjs"), force: args.includes("--force") });
    process.stderr.write(`${relative(root, resolve(dir))}: ${built ? "built" : "up to date"}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
