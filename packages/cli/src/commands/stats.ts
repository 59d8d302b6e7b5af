import type { BerthClient, ResourceUsage } from "@berth/client";
import type { Command } from "commander";
import { addJsonOption, contextOf } from "../command-context.ts";
import { untilInterrupted } from "../interrupt.ts";
import { formatBytes } from "../output/format.ts";
import type { Output } from "../output/output.ts";
import { formatTable } from "../output/table.ts";
import { parseDuration } from "../parse/duration.ts";

interface StatsFlags {
  watch?: boolean;
  interval?: number;
}

/** One row of `berth stats`: a sample and whose it is. */
export type StatsRow = ResourceUsage & { id: string; name: string };

/** `berth stats [NAME] [-w]`: CPU, memory, processes, network and disk of running containers. */
export function registerStats(program: Command): void {
  const cmd = program
    .command("stats")
    .description("show resource usage of your running containers (or of one)")
    .argument("[name]", "only this container")
    .option("-w, --watch", "keep showing new samples until Ctrl-C")
    .option("--interval <duration>", "time between samples with -w, e.g. 2s", (v) =>
      parseDuration(v, "--interval"),
    );
  addJsonOption(cmd, "the samples as one JSON array (with -w: one JSON object per sample, NDJSON)");
  cmd.addHelpText(
    "after",
    `
Examples:
  $ berth stats
  $ berth stats web -w
  $ berth stats -w --json | jq .cpuPercent`,
  );
  cmd.action(async (name: string | undefined, _opts: StatsFlags, command: Command) => {
    const { flags, out, client } = contextOf<StatsFlags>(command);
    const intervalMs = flags.interval !== undefined ? { intervalMs: Math.max(250, flags.interval) } : {};
    await client(
      async (berth) => {
        if (!flags.watch) return printRows(out, await snapshot(berth, name), false);
        await untilInterrupted(
          () => berth.close(),
          async () => {
            if (name !== undefined) {
              const container = await berth.containers.get(name);
              for await (const usage of container.watchStats(intervalMs)) {
                printRows(out, [{ ...usage, id: container.id, name: container.name }], true);
              }
              return;
            }
            const names = await namesById(berth);
            for await (const tick of berth.stats.watchAll(intervalMs)) {
              // A container created since the last tick: look its name up once.
              if (tick.samples.some((s) => !names.has(s.id)))
                for (const [k, v] of await namesById(berth)) names.set(k, v);
              const rows = tick.samples.map(({ id, ...usage }) => ({
                id,
                name: names.get(id) ?? id,
                ...usage,
              }));
              printRows(out, rows, true);
            }
          },
        );
      },
      { longLived: flags.watch === true },
    );
  });
}

async function namesById(berth: BerthClient): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for await (const c of berth.containers.list({})) names.set(c.id, c.name);
  return names;
}

/** One sample of the container named, or of every running one. */
async function snapshot(berth: BerthClient, name: string | undefined): Promise<StatsRow[]> {
  if (name !== undefined) {
    const container = await berth.containers.get(name);
    return [{ id: container.id, name: container.name, ...(await container.stats()) }];
  }
  const rows: StatsRow[] = [];
  // One at a time: berth allows a connection a few large reads at once, and a terminal does not need more.
  for await (const info of berth.containers.list({ filter: { state: "running" } })) {
    const container = await berth.containers.get(info.id);
    rows.push({ id: info.id, name: info.name, ...(await container.stats()) });
  }
  return rows;
}

function printRows(out: Output, rows: StatsRow[], streaming: boolean): void {
  if (out.json) {
    if (streaming) for (const row of rows) out.jsonLine(row);
    else out.jsonDocument(rows);
    return;
  }
  // On a terminal a watch redraws in place, like `docker stats`; elsewhere each tick is a new table.
  if (streaming && out.interactive) out.line("\x1b[2J\x1b[H");
  out.line(statsTable(rows));
}

/** The table `berth stats` prints, with `docker stats`'s columns. */
export function statsTable(rows: readonly StatsRow[]): string {
  return formatTable(rows, [
    { header: "NAME", value: (r) => r.name },
    { header: "CPU %", value: (r) => `${r.cpuPercent.toFixed(2)}%`, right: true },
    {
      header: "MEM USAGE / LIMIT",
      value: (r) => `${formatBytes(r.memoryBytes)} / ${formatBytes(r.memoryLimitBytes)}`,
    },
    {
      header: "MEM %",
      value: (r) =>
        r.memoryLimitBytes > 0 ? `${((100 * r.memoryBytes) / r.memoryLimitBytes).toFixed(2)}%` : "-",
      right: true,
    },
    { header: "PIDS", value: (r) => String(r.pids), right: true },
    { header: "NET I/O", value: (r) => `${formatBytes(r.netRxBytes)} / ${formatBytes(r.netTxBytes)}` },
    {
      header: "BLOCK I/O",
      value: (r) => `${formatBytes(r.blockReadBytes)} / ${formatBytes(r.blockWriteBytes)}`,
    },
  ]);
}
