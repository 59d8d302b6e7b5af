/**
 * Paths a test has made unremovable: `rm` under `node:fs/promises` as mocked
 * by `withUnremovablePaths` fails on them with EBUSY, as a file held open on
 * some file systems does. Tests clear it after each test.
 */
export const unremovable = new Set<string>();

type FsPromises = typeof import("node:fs/promises");

/**
 * A `vi.mock("node:fs/promises", …)` factory: node:fs as it is, except `rm`
 * under an `unremovable` path. The real module comes through
 * `importOriginal`: importing it here would import the mock being made.
 *
 * @example
 * vi.mock("node:fs/promises", async (importOriginal) =>
 *   (await import("./testing/unremovable-paths.ts")).withUnremovablePaths(importOriginal),
 * );
 */
export async function withUnremovablePaths(importOriginal: () => Promise<unknown>): Promise<FsPromises> {
  const real = (await importOriginal()) as FsPromises;
  return {
    ...real,
    rm: (path, options) =>
      unremovable.has(String(path))
        ? Promise.reject(Object.assign(new Error(`EBUSY: resource busy, rm '${path}'`), { code: "EBUSY" }))
        : real.rm(path, options),
  };
}
