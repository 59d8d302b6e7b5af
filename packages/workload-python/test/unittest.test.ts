import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PACKAGE_DIR } from "./python-workload.ts";

describe("berth_workload's own unittest suite", () => {
  it("passes under the host's python3 (never skipped: a missing python3 fails it)", async () => {
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(
        "python3",
        ["-m", "unittest", "discover", "-s", join(PACKAGE_DIR, "tests"), "-v"],
        {
          cwd: PACKAGE_DIR,
          env: {
            ...process.env,
            PYTHONPATH: PACKAGE_DIR,
            PYTHONDONTWRITEBYTECODE: "1",
            BERTH_WORKLOAD_DEBUG: "",
          },
          timeout: 60_000,
        },
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
  }, 70_000);
});
