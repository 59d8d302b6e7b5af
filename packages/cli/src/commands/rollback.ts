import type { Command } from "commander";
import { addJsonOption, contextOf } from "../command-context.ts";
import { StepsDisplay } from "../output/steps-display.ts";
import { updateSummary } from "../output/update-summary.ts";
import { parseWholeNumber } from "../parse/numbers.ts";

interface RollbackFlags {
  release?: number;
}

/** `berth rollback NAME [--release N]`: back to the release before (or to N). */
export function registerRollback(program: Command): void {
  const cmd = program
    .command("rollback")
    .description("run a container's previous release again (or the one given)")
    .argument("<name>", "the container")
    .option("--release <n>", "the release to go back to (see `berth releases NAME`)", (v) =>
      parseWholeNumber(v, "--release", 1),
    );
  addJsonOption(cmd, "berth's answer (release, previous release, timings) as one JSON document");
  cmd.addHelpText(
    "after",
    `
Examples:
  $ berth rollback web
  $ berth rollback web --release 2`,
  );
  cmd.action(async (name: string, _opts: RollbackFlags, command: Command) => {
    const { flags, out, client } = contextOf<RollbackFlags>(command);
    await client(async (berth) => {
      const container = await berth.containers.get(name);
      const steps = new StepsDisplay(out);
      try {
        const result = await container.rollback({
          onProgress: steps.onProgress,
          ...(flags.release !== undefined ? { release: flags.release } : {}),
        });
        if (flags.json) out.jsonDocument(result);
        else out.line(updateSummary(container.name, result));
      } finally {
        steps.close();
      }
    });
  });
}
