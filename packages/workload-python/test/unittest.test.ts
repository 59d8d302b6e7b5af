import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
// @ts-expect-error set-up's plain JavaScript has no declarations
import { loadRecipes, recipeHash } from "../../../scripts/images/recipe.mjs";
import { dockerRunArgs, PACKAGE_DIR, PYTHON_IMAGE } from "./python-workload.ts";

describe("berth_workload's own unittest suite", () => {
  it("runs against this checkout's SDK: the image was built from the current sources", async () => {
    // The image installs a copy of the SDK; set-up rebuilds it when the sources change. A run of
    // vitest alone after an edit would test the old copy, so it fails here, saying what to do.
    const recipe = loadRecipes().find((r: { runtime: string }) => r.runtime === "python");
    const { stdout } = await promisify(execFile)("docker", [
      "image",
      "inspect",
      PYTHON_IMAGE,
      "--format",
      '{{index .Config.Labels "berth.recipe"}}',
    ]);
    expect(stdout.trim(), "the Python image is older than the SDK's sources: run `npm run setup`").toBe(
      recipeHash(recipe),
    );
  });

  it("passes inside berth's Python runtime image, against the SDK installed there", async () => {
    // Only the tests are mounted: `import berth_workload` finds the copy the image installed, as a workload's would.
    const args = dockerRunArgs(
      `berth-pytest-${randomUUID().slice(0, 8)}`,
      { [join(PACKAGE_DIR, "tests")]: "/tests" },
      { BERTH_WORKLOAD_DEBUG: "" },
    );
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(
        "docker",
        [...args, "python3", "-m", "unittest", "discover", "-s", "/tests", "-v"],
        { timeout: 90_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
          resolve({
            code,
            output: `${stdout}${stderr}${error && code === null ? `\n${error.message}` : ""}`,
          });
        },
      );
    });
    if (result.code !== 0) expect.fail(`python3 -m unittest failed (exit ${result.code}):\n${result.output}`);
    expect(result.output).toMatch(/\nOK/);
    expect(result.output).toMatch(/Ran [1-9]\d* tests/);
  }, 100_000);
});
