#!/usr/bin/env node
// Builds berth's dashboard (packages/dashboard → packages/dashboard/dist) with Vite,
// which runs on the project's Node.js 24 (node_modules/node), whatever Node runs this.
//
//   node scripts/build-dashboard.mjs [--force]
//   import { buildDashboard } from "./build-dashboard.mjs"; buildDashboard({ log });
//
// A hash of what the bundle is made from — the dashboard's sources, the
// client's (bundled from its sources), this script, and the versions of Vite
// and Preact — is kept in dist/.build-hash: an unchanged dashboard is not
// rebuilt. Vite writes into a folder of the build's own, renamed into place,
// so that berth, serving dist/ meanwhile, never serves half a build.
// Plain JavaScript on purpose: set-up runs it on the machine's Node 20.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { whileHolding } from "./build-package.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dashboard = join(root, "packages", "dashboard");
const client = join(root, "packages", "client");
const dist = join(dashboard, "dist");
const node24 = join(root, "node_modules", "node", "bin", "node");
const viteEntry = join(root, "node_modules", "vite", "bin", "vite.js");

function files(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...files(p));
    else if (entry.isFile() && !entry.name.endsWith(".test.ts")) out.push(p);
  }
  return out.sort();
}

/** What the bundle is made from; a change to any of it means a rebuild. */
export function dashboardHash() {
  const hash = createHash("sha256");
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const pkg of ["vite", "preact"]) {
    hash.update(
      `${pkg}@${JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version}\n`,
    );
  }
  const inputs = [
    ...["index.html", "package.json", "tsconfig.json", "vite.config.ts"].map((f) => join(dashboard, f)),
    ...files(join(dashboard, "src")),
    join(client, "package.json"),
    ...files(join(client, "src")),
  ];
  for (const file of inputs) {
    hash.update(`${relative(root, file)}\n`);
    hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}

/** Whether dist/ holds a build of the current sources. */
export function isDashboardBuilt() {
  const hashFile = join(dist, ".build-hash");
  return existsSync(hashFile) && readFileSync(hashFile, "utf8") === dashboardHash();
}

/** Builds the dashboard unless dist/ is up to date; returns whether it built. */
export function buildDashboard({ force = false, log = () => {} } = {}) {
  return whileHolding(join(dashboard, ".build.lock"), () => {
    const want = dashboardHash();
    const hashFile = join(dist, ".build-hash");
    if (!force && existsSync(hashFile) && readFileSync(hashFile, "utf8") === want) return false;
    if (!existsSync(node24)) {
      throw new Error(
        `the Node.js 24 binary (${relative(root, node24)}) is missing: run \`npm install\` first`,
      );
    }
    log("building the dashboard (packages/dashboard/dist)");
    const work = mkdtempSync(join(dashboard, ".build-"));
    const out = join(work, "dist");
    try {
      const r = spawnSync(node24, [viteEntry, "build", "--config", join(dashboard, "vite.config.ts")], {
        cwd: dashboard,
        env: { ...process.env, BERTH_DASHBOARD_OUT: out, NODE_ENV: "production" },
        encoding: "utf8",
      });
      if (r.error) throw r.error;
      if (r.status !== 0)
        throw new Error(`vite could not build the dashboard:\n${(r.stdout + r.stderr).trim()}`);
      writeFileSync(join(out, ".build-hash"), want);
      // The old build aside, the new one in: a reader sees one or the other, only for an instant neither.
      if (existsSync(dist)) renameSync(dist, join(work, "old"));
      renameSync(out, dist);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return true;
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const built = buildDashboard({
      force: process.argv.includes("--force"),
      log: (m) => process.stderr.write(`berth build: ${m}\n`),
    });
    process.stderr.write(`berth build: the dashboard is ${built ? "built" : "up to date"}\n`);
  } catch (err) {
    process.stderr.write(`berth build: ${err.message}\n`);
    process.exit(1);
  }
}
