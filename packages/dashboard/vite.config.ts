import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The dashboard's build (scripts/build-dashboard.mjs runs it on Node 24). @berth/client is bundled from its
// sources (the "berth-source" condition), as tsc reads it: a bundle never carries a stale client build.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  // No dev server or public folder: berth serves the built files, with their caching and Content-Security-Policy.
  publicDir: false,
  clearScreen: false,
  logLevel: "warn",
  resolve: { conditions: ["berth-source", "module", "browser", "development|production"] },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: process.env.BERTH_DASHBOARD_OUT ?? "dist",
    emptyOutDir: true,
    target: "es2022",
    // The polyfill would be a script of its own for old browsers; every browser berth supports has modulepreload.
    modulePreload: { polyfill: false },
    // Hashed names under assets/: berth serves them as immutable.
    assetsDir: "assets",
    sourcemap: false,
  },
});
