import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Compiles berth's packages once per test run, before any test file loads:
 * the CLI's tests run the compiled `berth`, the layout test installs the
 * compiled client. A no-op when nothing changed (see scripts/build-package.mjs).
 */
export default function setup(): void {
  const script = fileURLToPath(new URL("../../scripts/build-packages.mjs", import.meta.url));
  // Piped: a failed build's message (tsc's errors) becomes this error's.
  execFileSync(process.execPath, [script], { stdio: "pipe" });
}
