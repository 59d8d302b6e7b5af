import type { Command } from "commander";
import { addJsonOption, contextOf } from "../command-context.ts";
import { formatAgo, formatBytes } from "../output/format.ts";
import { formatTable } from "../output/table.ts";

/** `berth releases NAME`: every release of a container, the running one marked. */
export function registerReleases(program: Command): void {
  const cmd = program
    .command("releases")
    .description("list a container's releases")
    .argument("<name>", "the container");
  addJsonOption(cmd, "the releases as one JSON array");
  cmd.addHelpText(
    "after",
    `
Examples:
  $ berth releases web
  $ berth rollback web --release 2   # then go back to one of them`,
  );
  cmd.action(async (name: string, _opts: object, command: Command) => {
    const { flags, out, client } = contextOf<object>(command);
    await client(async (berth) => {
      const container = await berth.containers.get(name);
      const releases = await container.releases();
      if (flags.json) return out.jsonDocument(releases);
      const current = container.info.release;
      const now = Date.now();
      out.line(
        formatTable(releases, [
          { header: "RELEASE", value: (r) => `${r.number === current ? "*" : " "}${r.number}`, right: true },
          { header: "STATUS", value: (r) => r.status },
          { header: "CREATED", value: (r) => formatAgo(r.createdAt, now) },
          { header: "BY", value: (r) => r.createdBy },
          { header: "SIZE", value: (r) => formatBytes(r.bytes), right: true },
          { header: "FILES", value: (r) => String(r.files), right: true },
          { header: "HASH", value: (r) => r.hash.slice(0, 12) },
        ]),
      );
    });
  });
}
