import type { ImageCheckResult } from "@berth/client";
import type { Output } from "./output.ts";
import { formatTable } from "./table.ts";

/**
 * `berth image check`'s report: a headline that answers the question, one
 * row per check, then what to do for each that failed and the workload's
 * last lines of output (already sanitised and redacted by berth).
 *
 * @example printImageCheck(out, await berth.images.check("acme/bot:1"));
 */
export function printImageCheck(out: Output, result: ImageCheckResult): void {
  const allowed = result.allowed
    ? "allowed on this server"
    : "not in BERTH_ALLOWED_IMAGES: add it there for clients to use it";
  out.line(
    result.ok
      ? `${out.color.green(result.image)}: berth can run workloads in it (${allowed})`
      : `${out.color.red(result.image)}: berth cannot run workloads in it yet (${allowed})`,
  );
  const code = { probe: `berth's ${result.runtime ?? ""} probe`, given: "the code given", none: "none" }[
    result.code
  ];
  out.line(
    `code: ${code}${result.protocol !== undefined ? `, protocol ${result.protocol}` : ""}, ${result.ms} ms`,
  );
  out.line();
  out.line(
    formatTable(result.checks, [
      { header: "CHECK", value: (c) => c.name },
      { header: "RESULT", value: (c) => (c.status === "failed" ? "FAILED" : c.status) },
      { header: "DETAILS", value: (c) => c.summary },
    ]),
  );
  const failed = result.checks.filter((c) => c.status === "failed");
  if (failed.length > 0) {
    out.line();
    out.line("What to do:");
    for (const c of failed) out.line(`  ${c.name}: ${c.fix ?? "see docs/images.md"}`);
  }
  if (result.exitCode !== undefined || result.output !== undefined) {
    out.line();
    out.line(
      `The workload's last output${result.exitCode !== undefined ? ` (it exited with code ${result.exitCode})` : ""}:`,
    );
    for (const line of result.output ?? []) out.line(`  ${line}`);
  }
}
