import type { ImageCheckResult } from "@berth/client";
import type { Output } from "./output.ts";
import { formatTable } from "./table.ts";
import { terminalText } from "./terminal-text.ts";

/**
 * `berth image check`'s report: a headline that answers the question, one
 * row per check, then what to do for each that failed and the workload's
 * last lines of output. berth sanitises, redacts and cuts what it quotes of
 * the image and the workload; every string of the answer is printed through
 * terminalText() all the same, since an image is anyone's to build.
 *
 * @example printImageCheck(out, await berth.images.check("acme/bot:1"));
 */
export function printImageCheck(out: Output, result: ImageCheckResult): void {
  const t = terminalText;
  const image = t(result.image);
  const allowed = result.allowed
    ? "allowed on this server"
    : "not in BERTH_ALLOWED_IMAGES: add it there for clients to use it";
  out.line(
    result.ok
      ? `${out.color.green(image)}: berth can run workloads in it (${allowed})`
      : `${out.color.red(image)}: berth cannot run workloads in it yet (${allowed})`,
  );
  const code =
    { probe: `berth's ${t(result.runtime ?? "")} probe`, given: "the code given", none: "none" }[
      result.code
    ] ?? t(String(result.code));
  out.line(
    `code: ${code}${result.protocol !== undefined ? `, protocol ${result.protocol}` : ""}, ${result.ms} ms`,
  );
  out.line();
  out.line(
    formatTable(result.checks, [
      { header: "CHECK", value: (c) => t(c.name) },
      { header: "RESULT", value: (c) => (c.status === "failed" ? "FAILED" : t(c.status)) },
      { header: "DETAILS", value: (c) => t(c.summary) },
    ]),
  );
  const failed = result.checks.filter((c) => c.status === "failed");
  if (failed.length > 0) {
    out.line();
    out.line("What to do:");
    for (const c of failed) out.line(`  ${t(c.name)}: ${t(c.fix ?? "see docs/images.md")}`);
  }
  if (result.exitCode !== undefined || result.output !== undefined) {
    out.line();
    out.line(
      `The workload's last output${result.exitCode !== undefined ? ` (it exited with code ${result.exitCode})` : ""}:`,
    );
    for (const line of result.output ?? []) out.line(`  ${t(line)}`);
  }
}
