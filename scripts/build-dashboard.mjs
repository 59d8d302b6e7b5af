#!/usr/bin/env node
// Builds berth's dashboard (packages/dashboard → packages/dashboard/dist) with Vite,
// which runs on the project's Node.js 24 (node_modules/node), whatever Node runs this.
//
//   node scripts/build-dashboard.mjs [--force]
//   import { buildDashboard } from "./build-dashboard.mjs"; buildDashboard({ log });
//
// A hash of what the bundle is made from — the dashboard's sources, the
// client's (bundled from its sources), these scripts, and package-lock.json
// (the exact version of everything bundled: Preact, uPlot, socket.io-client,
// and of Vite that bundles them) — is kept in dist/.build-hash: an unchanged
// dashboard is not rebuilt. Vite writes into a folder of the build's own, and
// install-dashboard-build.mjs puts it in place while berth serves dist/: new
// assets first, index.html swapped last, the previous build's assets kept.
// Plain JavaScript on purpose: set-up runs it on the machine's Node 20.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sourceFiles, whileHolding } from "./build-package.mjs";
import { installDashboardBuild } from "./install-dashboard-build.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dashboard = join(root, "packages", "dashboard");
const client = join(root, "packages", "client");
const dist = join(dashboard, "dist");
const node24 = join(root, "node_modules", "node", "bin", "node");
const viteEntry = join(root, "node_modules", "vite", "bin", "vite.js");

/** The files the bundle is made from; a change to any of them means a rebuild. */
export function dashboardInputs() {
  return [
    fileURLToPath(import.meta.url),
    fileURLToPath(new URL("./install-dashboard-build.mjs", import.meta.url)),
    // Every bundled package's exact version (and Vite's): a dependency updated in place changes the bundle.
    join(root, "package-lock.json"),
    ...["index.html", "package.json", "tsconfig.json", "vite.config.ts"].map((f) => join(dashboard, f)),
    ...sourceFiles(join(dashboard, "src")),
    join(client, "package.json"),
    ...sourceFiles(join(client, "src")),
  ];
}

/** What the bundle is made from, as one hash (dist/.build-hash). */
export function dashboardHash() {
  const hash = createHash("sha256");
  for (const file of dashboardInputs()) {
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
      // In place while berth serves the old one: never a 404 for a page's asset, never a 503 for `/`.
      installDashboardBuild({ out, dist, hash: want });
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
