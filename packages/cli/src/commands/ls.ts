import type { ContainerInfo } from "@berth/client";
import { type Command, Option } from "commander";
import { addJsonOption, contextOf } from "../command-context.ts";
import { CONTAINER_STATE_NAMES } from "../container-states.ts";
import { containerTable } from "../output/container-table.ts";

interface LsFlags {
  state?: string;
  label?: string;
  quiet?: boolean;
}

/** `berth ls`: the caller's containers, every page of them. */
export function registerLs(program: Command): void {
  const cmd = program
    .command("ls")
    .alias("ps")
    .description("list your containers")
    .addOption(new Option("--state <state>", "only containers in this state").choices(CONTAINER_STATE_NAMES))
    .option("--label <key[=value]>", "only containers with this label (and value)")
    .option("-q, --quiet", "print names only");
  addJsonOption(cmd, "the containers as one JSON array");
  cmd.addHelpText(
    "after",
    `
Examples:
  $ berth ls
  $ berth ls --state running --label team=web
  $ berth ls --json | jq -r '.[].name'`,
  );
  cmd.action(async (_opts: LsFlags, command: Command) => {
    const { flags, out, client } = contextOf<LsFlags>(command);
    const filter = {
      ...(flags.state !== undefined ? { state: flags.state as ContainerInfo["state"] } : {}),
      ...(flags.label !== undefined ? { label: flags.label } : {}),
    };
    const all: ContainerInfo[] = await client(async (berth) => {
      const found: ContainerInfo[] = [];
      for await (const info of berth.containers.list({ filter })) found.push(info);
      return found;
    });
    if (flags.json) out.jsonDocument(all);
    else if (flags.quiet) for (const c of all) out.line(c.name);
    else out.line(containerTable(all, out, Date.now()));
  });
}
