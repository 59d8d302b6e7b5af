import { existsSync, readFileSync, statSync } from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { join, posix } from "node:path";

/**
 * What the node agent loads when it runs, and nothing else: the files of
 * berth's own it imports (from `src/agent/main.ts`, following every runtime
 * import: type-only imports are erased, as Node erases them), the
 * package.json files that say how Node reads them, and the npm packages they
 * name with everything those depend on (their package.json's `dependencies`,
 * and the `optionalDependencies` that are installed). Paths are relative to
 * berth's directory, as they will be under the image's `/opt/berth`.
 */
export interface AgentClosure {
  /** berth's own files: sources and the package.json files that govern them. */
  readonly files: readonly string[];
  /** npm packages' directories, e.g. `node_modules/pino`, `node_modules/x/node_modules/y`. */
  readonly packages: readonly string[];
}

export const AGENT_ENTRY = "src/agent/main.ts";

/**
 * Packages the agent loads by name rather than by an import: pino's transport
 * for a terminal (`pino-pretty`, used when the agent's output is a TTY, e.g.
 * `docker run -it` while setting a node up).
 */
const LOADED_BY_NAME: readonly string[] = ["pino-pretty"];

export function agentClosure(root: string, entry = AGENT_ENTRY): AgentClosure {
  const rootManifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    imports?: Record<string, string>;
  };
  const files = new Set<string>();
  const manifests = new Set<string>(["package.json"]);
  const bare = new Set<string>(LOADED_BY_NAME);
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    const manifest = nearestManifest(root, file);
    if (manifest) manifests.add(manifest);
    for (const specifier of runtimeImports(readFileSync(join(root, file), "utf8"), file)) {
      if (specifier.startsWith("node:")) continue;
      if (specifier.startsWith(".")) {
        const target = posix.normalize(posix.join(posix.dirname(file), specifier));
        if (!existsSync(join(root, target))) throw new Error(`${file} imports ${specifier}: no such file`);
        queue.push(target);
      } else if (specifier.startsWith("#")) {
        const target = rootManifest.imports?.[specifier];
        if (target === undefined)
          throw new Error(`${file} imports ${specifier}, which package.json does not map`);
        queue.push(posix.normalize(target));
      } else {
        bare.add(packageName(specifier));
      }
    }
  }
  return {
    files: [...files, ...manifests].sort(),
    packages: packageClosure(root, [...bare]),
  };
}

/** The specifiers a TypeScript module imports at run time (static, re-exports, dynamic with a literal). */
export function runtimeImports(source: string, file = "<source>"): string[] {
  const js = file.endsWith(".ts") ? stripTypeScriptTypes(source) : source;
  const code = withoutComments(js);
  const found: string[] = [];
  const patterns = [
    // import … from "x", export … from "x": the clause may span lines, but never a string or a statement's end.
    /\b(?:import|export)\b[^;'"`]*?\bfrom\s*(["'])([^"']+)\1/g,
    // import "x" (for its effects)
    /\bimport\s*(["'])([^"']+)\1/g,
    // import("x")
    /\bimport\s*\(\s*(["'])([^"']+)\1\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.push(m[2]!);
  return [...new Set(found)];
}

/**
 * The code with its comments blanked (a doc comment's example import is not an
 * import); strings and template literals are kept, and skipped while scanning,
 * so a `//` inside a URL is not a comment.
 */
function withoutComments(code: string): string {
  let out = "";
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    const next = code[i + 1];
    if (c === "/" && next === "/") {
      const end = code.indexOf("\n", i);
      i = end === -1 ? code.length : end;
    } else if (c === "/" && next === "*") {
      const end = code.indexOf("*/", i + 2);
      i = end === -1 ? code.length : end + 2;
      out += " ";
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < code.length && code[j] !== c) j += code[j] === "\\" ? 2 : 1;
      out += code.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** The package.json nearest above a file of berth's (it says whether Node reads the file as a module). */
function nearestManifest(root: string, file: string): string | undefined {
  for (let dir = posix.dirname(file); dir !== "."; dir = posix.dirname(dir)) {
    if (existsSync(join(root, dir, "package.json"))) return posix.join(dir, "package.json");
  }
  return undefined;
}

interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * The packages named and everything they depend on, each found as Node finds
 * it: in the `node_modules` of the package that needs it, else of each folder
 * above, up to berth's own.
 */
function packageClosure(root: string, names: readonly string[]): string[] {
  const found = new Set<string>();
  const queue = names.map((name) => ({ name, from: ".", optional: false }));
  for (let item = queue.pop(); item !== undefined; item = queue.pop()) {
    const dir = resolvePackage(root, item.name, item.from);
    if (dir === undefined) {
      if (item.optional) continue;
      throw new Error(`${item.name} (needed by ${item.from}) is not installed`);
    }
    if (found.has(dir)) continue;
    found.add(dir);
    const manifest = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as Manifest;
    for (const name of Object.keys(manifest.dependencies ?? {}))
      queue.push({ name, from: dir, optional: false });
    for (const name of Object.keys(manifest.optionalDependencies ?? {}))
      queue.push({ name, from: dir, optional: true });
  }
  return [...found].sort();
}

function resolvePackage(root: string, name: string, from: string): string | undefined {
  for (let dir = from; ; dir = posix.dirname(dir)) {
    const candidate = posix.join(dir, "node_modules", name);
    if (existsSync(join(root, candidate, "package.json")) && statSync(join(root, candidate)).isDirectory())
      return posix.normalize(candidate);
    if (dir === "." || dir === "/") return undefined;
  }
}
