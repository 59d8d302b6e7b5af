// Builds berth's runtime images offline from Debian packages: mmdebstrap makes
// a minimal Debian root from the machine's apt sources, customize-root.mjs
// installs berth's parts and prunes it, and the engine imports the tar with
// the recipe's command, environment and labels. An image whose `berth.recipe`
// label matches its recipe's hash is left alone, so a second set-up costs one
// inspect per image.
import { spawn } from "node:child_process";
import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadRecipes, recipeLabels } from "./recipe.mjs";

const customizeScript = fileURLToPath(new URL("./customize-root.mjs", import.meta.url));

/**
 * The recipes whose image is missing from the engine or was built from an
 * older recipe. `engineRequest(method, path)` resolves `{ status, body }`.
 */
export async function staleRecipes(engineRequest) {
  const stale = [];
  for (const recipe of loadRecipes()) {
    const labels = recipeLabels(recipe);
    const r = await engineRequest("GET", `/images/${encodeURIComponent(recipe.image)}/json`);
    const have = r.status === 200 ? (JSON.parse(r.body).Config?.Labels ?? {}) : {};
    if (have["berth.recipe"] !== labels["berth.recipe"]) stale.push(recipe);
  }
  return stale;
}

/** Builds the given recipes' images, side by side (each is mostly waiting on the mirror and the disk). */
export async function buildImages(recipes, { engineRequest, log }) {
  await Promise.all(recipes.map((recipe) => buildImage(recipe, { engineRequest, log })));
}

async function buildImage(recipe, { engineRequest, log }) {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), `berth-image-${recipe.name}-`));
  const tar = join(work, "root.tar");
  try {
    log(`building ${recipe.image} from Debian ${recipe.suite} (${recipe.packages.join(", ")})`);
    const hook = `${quote(process.execPath)} ${quote(customizeScript)} ${quote(recipe.dir)} "$1"`;
    await runLogged("mmdebstrap", [
      "--mode=root",
      "--variant=essential",
      "--format=tar",
      `--include=${recipe.packages.join(",")}`,
      "--dpkgopt=path-exclude=/usr/share/doc/*",
      "--dpkgopt=path-exclude=/usr/share/man/*",
      "--dpkgopt=path-exclude=/usr/share/locale/*",
      `--customize-hook=${hook}`,
      // The hook removes apt's and dpkg's files and prepares /run and /tmp itself; mmdebstrap's clean-up would trip on the first and undo the second.
      "--skip=cleanup",
      recipe.suite,
      tar,
    ]);
    const query = new URLSearchParams({
      fromSrc: "-",
      repo: recipe.image.split(":")[0],
      tag: recipe.image.split(":")[1],
    });
    for (const change of importChanges(recipe)) query.append("changes", change);
    const r = await engineRequest("POST", `/images/create?${query}`, {
      body: createReadStream(tar),
      timeoutMs: 300_000,
    });
    if (r.status !== 200 || r.body.includes('"error"')) {
      throw new Error(`the engine refused to import ${recipe.image}: ${r.body.slice(0, 300)}`);
    }
    log(`built ${recipe.image} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Dockerfile instructions for `docker import`: the default command, working directory, environment and labels. */
export function importChanges(recipe) {
  const labels = recipeLabels(recipe);
  return [
    `CMD ${JSON.stringify(recipe.command)}`,
    "WORKDIR /run/berth-code/current",
    ...Object.entries(recipe.env ?? {}).map(([k, v]) => `ENV ${k}=${v}`),
    ...Object.entries(labels).map(([k, v]) => `LABEL ${k}=${JSON.stringify(v)}`),
  ];
}

function quote(s) {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** Runs a command with its output held; on failure the error quotes its last lines. */
function runLogged(cmd, args) {
  return new Promise((resolve, reject) => {
    const out = [];
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (c) => out.push(c));
    child.stderr.on("data", (c) => out.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      const text = Buffer.concat(out).toString();
      if (code === 0) return resolve(text);
      const tail = text.split("\n").slice(-20).join("\n");
      reject(new Error(`${cmd} failed (exit ${code}):\n${tail}`));
    });
  });
}
