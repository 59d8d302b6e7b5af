import type { Command } from "commander";
import { EXIT } from "../cli-error.ts";
import { addJsonOption, contextOf } from "../command-context.ts";
import { printImageCheck } from "../output/image-check-report.ts";
import { readCode } from "../read-code.ts";

interface ImageCheckFlags {
  code?: string;
}

/** `berth image check IMAGE`: whether berth can run workloads in an image, and what is missing (the admin's only). */
export function registerImage(program: Command): void {
  const image = program.command("image").description("images on berth's container engine (the admin's only)");
  const cmd = image
    .command("check")
    .description(
      "check that berth can run workloads in an image: run it once with berth's hardening and a probe (or your code) that must connect and answer",
    )
    .argument("<image>", "an image on the engine, allowed on this server or not yet")
    .option(
      "--code <dir>",
      "run this folder as the workload's code instead of berth's probe (needed for an image without a berth.runtime label)",
    );
  addJsonOption(cmd, "the checks as one JSON document");
  cmd.addHelpText(
    "after",
    `
Connect with the admin's token; an owner's is refused (FORBIDDEN). Exits 1 when a check fails.

Examples:
  $ berth image check berth/runtime-python:3.11
  $ berth image check acme/bot:1 --code ./bot
  $ berth image check acme/bot:1 --json | jq '.checks[] | select(.status == "failed")'`,
  );
  cmd.action(async (name: string, _opts: ImageCheckFlags, command: Command) => {
    const { flags, out, client } = contextOf<ImageCheckFlags>(command);
    const result = await client(async (berth) =>
      berth.images.check(
        name,
        flags.code === undefined ? {} : { code: await readCode(berth, flags.code, "--code") },
      ),
    );
    if (flags.json) out.jsonDocument(result);
    else printImageCheck(out, result);
    if (!result.ok) process.exitCode = EXIT.FAILED;
  });
}
