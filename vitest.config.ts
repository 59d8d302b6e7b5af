import { defineConfig } from "vitest/config";

// Unit tests sit beside their source and use fakes; system tests in test/ start
// real servers against the real Docker engine. Files run concurrently: the
// system tests wait on the engine, not on the CPU, and each uses its own
// berth instance, data directory and labels.
export default defineConfig({
  // The workspace packages from their sources (package.json `exports`, condition
  // "berth-source"), as tsc reads them: a test never runs a stale build.
  // The rest are Vite's defaults for server code (vite's defaultServerConditions), which a list given here replaces.
  ssr: { resolve: { conditions: ["berth-source", "module", "node", "development|production"] } },
  test: {
    // Builds the compiled packages once, before any file of either project (each runs it; the later ones find it done).
    // With BERTH_TEST_STORE=postgres, also one throwaway PostgreSQL server for the run (each berth gets a database on it).
    globalSetup: ["./test/helpers/global-setup.ts", "./test/helpers/postgres-global-setup.ts"],
    pool: "forks",
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
    maxWorkers: 4,
    // expect.poll's default of 1 s is shorter than a busy machine can take to make a connection or a
    // container: a poll is a guard against hanging, never a measurement, so it gets room.
    expect: { poll: { timeout: 15_000 } },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: "system",
          include: ["test/**/*.test.ts"],
          exclude: ["test/browser/**", "test/fuzz/**", "test/cluster/**"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          // Property-based tests of hostile input (test/fuzz/): a few hundred cases here, BERTH_FUZZ_RUNS=10000 in `npm run test:soak`.
          name: "fuzz",
          include: ["test/fuzz/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          // The dashboard in Debian's Chromium (test/helpers/browser.ts), against a real berth on the real engine.
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      // The cluster test bed (test/cluster/: three dockerd in network namespaces, one Swarm),
      // only when asked for (`npm run test:cluster`): it needs root, holds fixed names (one
      // test bed per machine) and takes about a minute.
      ...(process.env.BERTH_TEST_CLUSTER === "1"
        ? [
            {
              extends: true,
              test: {
                name: "cluster",
                include: ["test/cluster/**/*.test.ts"],
                fileParallelism: false,
                testTimeout: 120_000,
                hookTimeout: 180_000,
              },
            },
          ]
        : []),
    ],
  },
});
