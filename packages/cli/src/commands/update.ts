import type { Command } from "commander";
import { addJsonOption, contextOf } from "../command-context.ts";
import { StepsDisplay } from "../output/steps-display.ts";
import { updateSummary } from "../output/update-summary.ts";
import { parseDuration } from "../parse/duration.ts";
import { readCode } from "../read-code.ts";

interface UpdateFlags {
  readyTimeout?: number;
}

/** `berth update NAME DIR`: a new release from a folder, rolled back by berth if it does not come up. */
export function registerUpdate(program: Command): void {
  const cmd = program
    .command("update")
    .description("deploy new code to a container; berth puts the previous release back if it fails")
    .argument("<name>", "the container")
    .argument("<dir>", "the folder with the new code (honours .berthignore)")
    .option("--ready-timeout <duration>", "how long the new release may take to be ready, e.g. 30s", (v) =>
      parseDuration(v, "--ready-timeout"),
    );
  addJsonOption(cmd, "berth's answer (release, previous release, timings) as one JSON document");
  cmd.addHelpText(
    "after",
    `
Exit status 1 when the new release did not come up: berth rolled back, and the
error shows the cause (exit code and the last lines the release printed).

Examples:
  $ berth update web ./app
  $ berth update web ./app --ready-timeout 1m --json`,
  );
  cmd.action(async (name: string, dir: string, _opts: UpdateFlags, command: Command) => {
    const { flags, out, client } = contextOf<UpdateFlags>(command);
    await client(async (berth) => {
      const container = await berth.containers.get(name);
      const code = await readCode(berth, dir, "DIR");
      const steps = new StepsDisplay(out);
      try {
        const result = await container.update(code, {
          onProgress: steps.onProgress,
          ...(flags.readyTimeout !== undefined ? { readyTimeoutMs: flags.readyTimeout } : {}),
        });
        if (flags.json) out.jsonDocument(result);
        else out.line(updateSummary(container.name, result));
      } finally {
        steps.close();
      }
    });
  });
}
