// Puts a fresh dashboard build (Vite's output folder) in place of the one berth serves, without a moment
// in which a page gets a 404 or a 503:
//
//   installDashboardBuild({ out: ".build-x/dist", dist: "packages/dashboard/dist", hash });
//
// 1. the new build's files under assets/ are copied in beside the old ones (each written under a
//    temporary name and renamed, so no request reads half a file; hashed names never change content);
// 2. index.html is swapped last, by one rename: a load of `/` gets the old page or the new one;
// 3. only then are old assets pruned: those of builds before the previous one. The previous build's stay
//    (until the next build), so that a page loaded from the old index.html still gets its scripts.
// dist/.build-assets.json names the current build's assets; dist/.build-hash is written last of all,
// so that a build cut short is done again. Plain JavaScript on purpose: set-up runs it on Node 20.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

const MANIFEST = ".build-assets.json";

/** Files directly in `dir` (hashed assets are flat under assets/). */
function filesIn(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
}

/** Writes `to` from `from` (a file) or `text`, under a temporary name first, then renamed: never half a file. */
function writeAtomically(to, { from, text }) {
  const tmp = join(dirname(to), `.${basename(to)}.tmp`);
  if (from !== undefined) copyFileSync(from, tmp);
  else writeFileSync(tmp, text);
  renameSync(tmp, to);
}

/** The assets the build in `dist` was made with: its manifest, or — an older build without one — all there. */
function currentAssets(dist) {
  try {
    const manifest = JSON.parse(readFileSync(join(dist, MANIFEST), "utf8"));
    if (Array.isArray(manifest.assets)) return manifest.assets.filter((a) => typeof a === "string");
  } catch {
    // No manifest (or an unreadable one): keep every asset there as the previous build's.
  }
  return filesIn(join(dist, "assets"));
}

/**
 * Installs the build in `out` into `dist` as described above, `hash` its
 * .build-hash. `out` is left for the caller to remove. Returns the assets
 * pruned (for tests and logs).
 *
 * @example
 * installDashboardBuild({ out: join(work, "dist"), dist, hash: dashboardHash() }); // ["index-OLD1.js", …]
 */
export function installDashboardBuild({ out, dist, hash }) {
  const assets = filesIn(join(out, "assets"));
  const others = filesIn(out).filter((f) => f !== "index.html");
  if (!existsSync(dist)) {
    // The first build: nothing is served yet, so the whole folder goes in at once.
    writeFileSync(join(out, MANIFEST), JSON.stringify({ assets }));
    writeFileSync(join(out, ".build-hash"), hash);
    renameSync(out, dist);
    return [];
  }
  const previous = currentAssets(dist);
  // The same build again (--force) is no new build: the previous one's assets stay too, whatever is there.
  const same = assets.length === previous.length && assets.every((a, i) => a === previous[i]);
  mkdirSync(join(dist, "assets"), { recursive: true });
  for (const name of assets) {
    const to = join(dist, "assets", name);
    // A hashed name already there holds the same bytes.
    if (!existsSync(to)) writeAtomically(to, { from: join(out, "assets", name) });
  }
  for (const name of others) writeAtomically(join(dist, name), { from: join(out, name) });
  writeAtomically(join(dist, "index.html"), { from: join(out, "index.html") });
  writeAtomically(join(dist, MANIFEST), { text: JSON.stringify({ assets }) });
  const keep = new Set([...assets, ...previous]);
  const pruned = same ? [] : filesIn(join(dist, "assets")).filter((name) => !keep.has(name));
  for (const name of pruned) rmSync(join(dist, "assets", name), { force: true });
  writeAtomically(join(dist, ".build-hash"), { text: hash });
  return pruned;
}
