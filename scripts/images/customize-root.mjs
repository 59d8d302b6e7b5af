// mmdebstrap's customize hook for a runtime image: runs on the host, as root,
// after Debian's packages are installed in ROOT and before ROOT becomes a tar.
//
//   node customize-root.mjs RECIPE_DIR ROOT
//
// It installs berth's parts (the workload SDK, any binary the recipe copies,
// the code and socket mount points, the /app link), then takes away what a
// workload must not have: every program in /usr/bin and /usr/sbin that the
// recipe does not keep (shells, dpkg, apt, perl, su and the rest), the
// package manager's state, documentation, and every setuid/setgid bit.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { CODE_DIR_IN_CONTAINER, loadRecipe, ROOT, SOCKET_DIR_IN_CONTAINER } from "./recipe.mjs";

/** Programs' homes that are pruned to the recipe's `keep` list. */
const PRUNED_BIN_DIRS = ["/usr/bin", "/usr/sbin"];

/** What the package manager, documentation and Perl leave behind, none of which a workload uses. */
const REMOVED_PATHS = [
  "/etc/apt",
  "/etc/dpkg",
  "/etc/alternatives",
  "/usr/lib/apt",
  "/usr/lib/dpkg",
  "/usr/libexec",
  "/usr/share/doc",
  "/usr/share/info",
  "/usr/share/lintian",
  "/usr/share/man",
  "/usr/share/perl",
  "/usr/share/perl5",
  "/usr/lib/x86_64-linux-gnu/perl",
  "/usr/lib/x86_64-linux-gnu/perl-base",
  "/usr/lib/x86_64-linux-gnu/perl5",
  "/var/cache",
  "/var/lib/apt",
  "/var/lib/dpkg",
  "/var/log",
];

const [recipeDir, rootDir] = process.argv.slice(2);
if (!recipeDir || !rootDir || !existsSync(rootDir)) {
  process.stderr.write("usage: customize-root.mjs RECIPE_DIR ROOT\n");
  process.exit(2);
}
const recipe = loadRecipe(recipeDir);
const inRoot = (p) => join(rootDir, p);

function installSdk() {
  const from = join(ROOT, recipe.sdk.from);
  const to = inRoot(recipe.sdk.to);
  mkdirSync(dirname(to), { recursive: true });
  if (recipe.sdk.language === "node") {
    mkdirSync(to, { recursive: true });
    copyFileSync(join(from, "package.json"), join(to, "package.json"));
    cpSync(join(from, "lib"), join(to, "lib"), { recursive: true });
    return;
  }
  cpSync(from, to, { recursive: true, filter: (p) => !p.includes("__pycache__") });
  // Compiled now, with the image's own Python: the root is read-only when a
  // workload runs, so nothing could cache the bytecode later.
  const r = spawnSync("chroot", [rootDir, "python3", "-m", "compileall", "-q", recipe.sdk.to], {
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error(`compiling the Python SDK in the image failed (${r.status})`);
}

function installBinaries() {
  for (const { from, to } of recipe.binaries ?? []) {
    mkdirSync(dirname(inRoot(to)), { recursive: true });
    copyFileSync(join(ROOT, from), inRoot(to));
    chmodSync(inRoot(to), 0o755);
  }
}

function makeMountPoints() {
  // mmdebstrap's own clean-up is skipped (it expects apt's files, which are gone by then): /run and /tmp start empty here.
  for (const dir of ["/run", "/tmp"]) {
    rmSync(inRoot(dir), { recursive: true, force: true });
    mkdirSync(inRoot(dir));
  }
  for (const dir of [SOCKET_DIR_IN_CONTAINER, CODE_DIR_IN_CONTAINER])
    mkdirSync(inRoot(dir), { recursive: true });
  chmodSync(inRoot("/tmp"), 0o1777);
  // Kept for commands written before berth ran code from its mount (`node /app/index.js`).
  rmSync(inRoot("/app"), { recursive: true, force: true });
  symlinkSync(`${CODE_DIR_IN_CONTAINER}/current`, inRoot("/app"));
}

function prunePrograms() {
  const keep = new Set(Object.keys(recipe.keep));
  for (const dir of PRUNED_BIN_DIRS) {
    for (const name of readdirSync(inRoot(dir))) {
      const path = `${dir}/${name}`;
      if (!keep.has(path)) rmSync(inRoot(path), { recursive: true, force: true });
    }
  }
  for (const path of keep) {
    if (!existsSync(inRoot(path))) throw new Error(`the recipe keeps ${path}, which the image does not have`);
  }
  for (const path of REMOVED_PATHS) rmSync(inRoot(path), { recursive: true, force: true });
  // Directories the removal above emptied that something may expect to exist.
  for (const dir of ["/var/cache", "/var/log"]) mkdirSync(inRoot(dir), { recursive: true });
  // Each container gets its own id; an image carries none (as mmdebstrap's skipped clean-up would have done).
  if (existsSync(inRoot("/etc/machine-id"))) writeFileSync(inRoot("/etc/machine-id"), "");
}

/** Mounted by mmdebstrap while its hooks run: not part of the image. */
const MOUNTED = new Set(["proc", "sys", "dev"]);

/** No setuid or setgid file or directory anywhere (no-new-privileges makes them inert; this makes them absent). */
function clearSpecialBits(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (dir === rootDir && MOUNTED.has(entry.name)) continue;
    const p = join(dir, entry.name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if ((st.mode & 0o6000) !== 0) chmodSync(p, st.mode & 0o1777);
    if (st.isDirectory()) clearSpecialBits(p);
  }
}

installBinaries();
installSdk();
makeMountPoints();
prunePrograms();
clearSpecialBits(rootDir);
