// A runtime image's recipe (images/<name>/recipe.json) and the hash that
// says whether the image on the engine was built from it.
//
// Plain JavaScript with no dependencies: set-up runs it on whatever Node.js
// the machine has, before npm has installed anything.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const IMAGES_DIR = join(ROOT, "images");

/** Where berth mounts a container's code, and the link its runtime images keep for older commands. */
export const CODE_DIR_IN_CONTAINER = "/run/berth-code";
export const SOCKET_DIR_IN_CONTAINER = "/run/berth";

/** Every recipe under images/, sorted by name. */
export function loadRecipes() {
  return readdirSync(IMAGES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(IMAGES_DIR, d.name, "recipe.json")))
    .map((d) => loadRecipe(join(IMAGES_DIR, d.name)))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** One recipe, checked: a typo in a recipe must stop set-up, not build a half image. */
export function loadRecipe(dir) {
  const file = join(dir, "recipe.json");
  const recipe = JSON.parse(readFileSync(file, "utf8"));
  const problem = recipeProblem(recipe);
  if (problem) throw new Error(`${file}: ${problem}`);
  return { ...recipe, name: dir.split("/").pop(), dir, file };
}

function recipeProblem(r) {
  const strings = (v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === "string" && s);
  if (typeof r.image !== "string" || !/^[a-z0-9/._-]+:[A-Za-z0-9._-]+$/.test(r.image))
    return "image must be NAME:TAG";
  if (!["node", "python"].includes(r.runtime)) return "runtime must be node or python";
  if (typeof r.suite !== "string" || !/^[a-z]+$/.test(r.suite)) return "suite must be a Debian suite name";
  if (!strings(r.packages)) return "packages must list Debian packages";
  if (!strings(r.command)) return "command must be a non-empty list of strings";
  if (typeof r.entry !== "string" || r.entry.includes("/") || !r.command.includes(r.entry))
    return "entry must be a file name that the command runs";
  if (typeof r.sdk?.from !== "string" || typeof r.sdk?.to !== "string") return "sdk must say from and to";
  if (typeof r.keep !== "object" || Object.values(r.keep).some((why) => typeof why !== "string" || !why))
    return "keep must map each executable kept to why it is kept";
  return undefined;
}

function hashTree(hash, path) {
  if (!existsSync(path)) return;
  const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name === "__pycache__") continue;
    const p = join(path, entry.name);
    if (entry.isDirectory()) {
      hash.update(`d:${entry.name}\n`);
      hashTree(hash, p);
    } else if (entry.isFile()) {
      hash.update(`f:${entry.name}\n`);
      hash.update(readFileSync(p));
    }
  }
}

/**
 * A hash of everything an image is made from: its recipe, the scripts that
 * build it, the SDK it installs, and the version of any binary it copies
 * (the npm package's manifest, not the 100 MB binary). Debian's packages are
 * not in it: an image is rebuilt when berth changes it, not when a mirror does.
 */
export function recipeHash(recipe) {
  const hash = createHash("sha256");
  hash.update(readFileSync(recipe.file));
  const here = dirname(fileURLToPath(import.meta.url));
  for (const script of ["recipe.mjs", "build-image.mjs", "customize-root.mjs"])
    hash.update(readFileSync(join(here, script)));
  hashTree(hash, join(ROOT, recipe.sdk.from));
  for (const binary of recipe.binaries ?? []) {
    const manifest = join(ROOT, dirname(dirname(binary.from)), "package.json");
    hash.update(existsSync(manifest) ? readFileSync(manifest) : binary.from);
  }
  return hash.digest("hex").slice(0, 16);
}

/** The SDK version an image installs: the version in the SDK package's own manifest. */
export function sdkVersion(recipe) {
  if (recipe.sdk.language === "python") {
    const toml = readFileSync(join(ROOT, dirname(recipe.sdk.from), "pyproject.toml"), "utf8");
    const m = toml.match(/^version\s*=\s*"([^"]+)"/m);
    if (!m) throw new Error(`no version in ${recipe.sdk.from}/../pyproject.toml`);
    return m[1];
  }
  return JSON.parse(readFileSync(join(ROOT, recipe.sdk.from, "package.json"), "utf8")).version;
}

/** The channel protocol version the SDK speaks, read from the SDK's own source (`PROTOCOL_VERSION = N`). */
export function sdkProtocol(recipe) {
  const file =
    recipe.sdk.language === "python"
      ? join(recipe.sdk.from, "client.py")
      : join(recipe.sdk.from, "lib", "index.cjs");
  const m = readFileSync(join(ROOT, file), "utf8").match(/PROTOCOL_VERSION\s*=\s*(\d+)/);
  if (!m) throw new Error(`no PROTOCOL_VERSION in ${file}`);
  return m[1];
}

/** The labels berth reads from a runtime image (see docs/images.md). */
export function recipeLabels(recipe) {
  return {
    "berth.runtime": recipe.runtime,
    "berth.entry": recipe.entry,
    "berth.command": JSON.stringify(recipe.command),
    "berth.protocol": sdkProtocol(recipe),
    "berth.sdk-version": sdkVersion(recipe),
    "berth.recipe": recipeHash(recipe),
  };
}
