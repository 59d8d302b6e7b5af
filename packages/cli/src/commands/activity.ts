import type { ActivityEntry, BerthClient } from "@berth/client";
import type { Command } from "commander";
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

/** The largest page berth answers for `activity:history`. */
const PAGE = 1000;

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
        const latest = await latestEntries(berth, containerId, flags.tail);
        if (!flags.follow) {
          if (out.json) out.jsonDocument(latest);
          else for (const e of latest) printEntry(out, e);
          return;
        }
        for (const e of latest) printEntry(out, e);
        let lastId = latest.at(-1)?.id ?? 0;
        let unsubscribe: (() => void) | undefined;
        await untilInterrupted(
          () => berth.close(),
          () =>
            new Promise<void>((resolve) => {
              unsubscribe = berth.activity.on((entry: ActivityEntry) => {
                if (entry.id <= lastId) return;
                if (containerId !== undefined && entry.containerId !== containerId) return;
                lastId = entry.id;
                printEntry(out, entry);
              });
              // The feed has no end of its own: it ends when the connection does (Ctrl-C closes it).
              berth.on("connection", (state: string) => {
                if (state === "closed") resolve();
              });
            }),
        );
        unsubscribe?.();
      },
      { longLived: flags.follow === true },
    );
  });
}

/** The newest `count` entries (at most a page: 1000), oldest first, in one call. */
async function latestEntries(
  berth: BerthClient,
  containerId: string | undefined,
  count: number,
): Promise<ActivityEntry[]> {
  if (count === 0) return [];
  const page = await berth.activity.history({
    newest: true,
    limit: Math.min(count, PAGE),
    ...(containerId !== undefined ? { containerId } : {}),
  });
  return page.items;
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
