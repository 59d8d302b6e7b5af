import type { ActivityEntry } from "@berth/client";
import type { Command } from "commander";
import { activitySource, followActivity } from "../activity-follow.ts";
import { addJsonOption, contextOf } from "../command-context.ts";
import { untilInterrupted } from "../interrupt.ts";
import { formatTime } from "../output/format.ts";
import type { Output } from "../output/output.ts";
import { parseWholeNumber } from "../parse/numbers.ts";

interface ActivityFlags {
  follow?: boolean;
  container?: string;
  tail: number;
}

/** `berth activity [-f] [--container NAME]`: what happened to your containers, told in plain words. */
export function registerActivity(program: Command): void {
  const cmd = program
    .command("activity")
    .alias("events")
    .description("show the activity feed of your containers")
    .option("-f, --follow", "keep printing new entries until Ctrl-C")
    .option("-c, --container <name>", "only entries about this container")
    .option(
      "-n, --tail <n>",
      "how many of the latest entries to show first (at most 1000)",
      (v) => parseWholeNumber(v, "--tail"),
      20,
    );
  addJsonOption(cmd, "the entries as one JSON array (with -f: one JSON object per entry, NDJSON)");
  cmd.addHelpText(
    "after",
    `
Examples:
  $ berth activity
  $ berth activity -f --container web
  $ berth activity --tail 100 --json | jq -r '.[].message'`,
  );
  cmd.action(async (_opts: ActivityFlags, command: Command) => {
    const { flags, out, client } = contextOf<ActivityFlags>(command);
    await client(
      async (berth) => {
        const containerId =
          flags.container !== undefined ? (await berth.containers.get(flags.container)).id : undefined;
        const print = (e: ActivityEntry) => printEntry(out, e);
        if (flags.follow) {
          const source = activitySource(berth);
          await untilInterrupted(
            () => berth.close(),
            () => followActivity(source, { tail: flags.tail, containerId }, print),
          );
          return;
        }
        const latest = await activitySource(berth).latest(flags.tail, containerId);
        if (out.json) out.jsonDocument(latest);
        else for (const e of latest) print(e);
      },
      { longLived: flags.follow === true },
    );
  });
}

function printEntry(out: Output, e: ActivityEntry): void {
  if (out.json) {
    out.jsonLine(e);
    return;
  }
  const c = out.color;
  const level =
    { info: c.blue, success: c.green, warning: c.yellow, error: c.red }[e.level] ?? ((s: string) => s);
  const who = e.containerName ?? e.containerId ?? "-";
  out.line(`${formatTime(e.ts)}  ${level(e.level.padEnd(7))}  ${who}  ${e.message}`);
}
