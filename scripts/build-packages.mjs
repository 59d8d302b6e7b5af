#!/usr/bin/env node
// Builds berth's compiled packages (`npm run build`, and set-up before tests):
// @berth/client as ESM and CommonJS, and the CLI as ESM once its sources
// exist. Each is rebuilt only when its sources changed (see build-package.mjs).
// Plain JavaScript: set-up runs it on the machine's Node.js 20.
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildPackage } from "./build-package.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Builds what needs it; returns the names of the packages built. */
export function buildPackages({ force = false, log = () => {} } = {}) {
  const built = [];
  // The client first: the CLI compiles against its declarations, and its hash takes in the client's build.
  const client = join(root, "packages", "client");
  if (buildPackage(client, { cjs: true, force })) built.push("@berth/client");
  const cli = join(root, "packages", "cli");
  if (existsSync(join(cli, "src", "main.ts"))) {
    if (buildPackage(cli, { force })) built.push("@berth/cli");
    linkCliBin(cli, log);
  }
  return built;
}

/**
 * npm links node_modules/.bin/berth only when the bin's file exists at install
 * time, which it does not before the first build; without the link `npx berth`
 * would fetch an unrelated package named `berth` from the registry.
 */
function linkCliBin(cli, log) {
  const main = join(cli, "lib", "main.js");
  if (!existsSync(main)) return;
  // tsc writes the file without the execute bit, on every build; the link (npm's or ours) runs it directly.
  chmodSync(main, 0o755);
  const bin = join(root, "node_modules", ".bin", "berth");
  if (existsSync(bin)) return;
  mkdirSync(dirname(bin), { recursive: true });
  rmSync(bin, { force: true }); // a dangling link from an earlier layout
  symlinkSync("../@berth/cli/lib/main.js", bin);
  log("linked node_modules/.bin/berth");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const built = buildPackages({
      force: process.argv.includes("--force"),
      log: (m) => process.stderr.write(`berth build: ${m}\n`),
    });
    process.stderr.write(`berth build: ${built.length > 0 ? `built ${built.join(", ")}` : "up to date"}\n`);
  } catch (err) {
    process.stderr.write(`berth build: ${err.message}\n`);
    process.exit(1);
  }
}
