import type { RuntimeInfo, ServerInfo } from "@berth/client";
import type { Command } from "commander";
import { addJsonOption, contextOf } from "../command-context.ts";
import { formatBytes } from "../output/format.ts";
import { formatTable } from "../output/table.ts";

/** `berth info`: what the server offers (`server:info`): version, runtimes, images, limits, the caller's quotas. */
export function registerInfo(program: Command): void {
  const cmd = program
    .command("info")
    .description("show the server: its version, runtimes and images, limits, and your quotas");
  addJsonOption(cmd, "berth's server:info answer as one JSON document");
  cmd.addHelpText(
    "after",
    `
Examples:
  $ berth info
  $ berth info --json | jq '.runtimes[] | select(.name == "python")'`,
  );
  cmd.action(async (_opts: object, command: Command) => {
    const { flags, out, client } = contextOf<object>(command);
    // Asked again rather than the copy from connect: whether the engine has each image is worth knowing now.
    const info = await client((berth) => berth.call("server:info", {}));
    if (flags.json) return out.jsonDocument(info);
    for (const line of describeServer(info)) out.line(line);
  });
}

/** The lines of `berth info`: a few facts, then the runtimes as a table. */
export function describeServer(info: ServerInfo): string[] {
  const lines = [
    `Version:    ${info.version} (channel protocol ${info.channelProtocol})`,
    `Images:     ${info.images.allowed.join(", ")} (default ${info.images.default})`,
    `Code:       up to ${formatBytes(info.limits.maxCodeBytes)} in ${info.limits.maxCodeFiles} files`,
  ];
  if (info.quota) {
    const { limits, usage } = info.quota;
    lines.push(
      `Quota:      ${usage.containers}/${limits.containers} containers, ${usage.running}/${limits.running} running, ${usage.memoryMb}/${limits.memoryMb} MiB, ${usage.cpus}/${limits.cpus} CPUs`,
    );
  }
  lines.push("", runtimeTable(info.runtimes));
  return lines;
}

/** The runtimes: `berth create --runtime NAME` runs IMAGE, whose COMMAND runs the code's ENTRY. */
export function runtimeTable(runtimes: readonly RuntimeInfo[]): string {
  return formatTable(runtimes, [
    { header: "RUNTIME", value: (r) => r.name },
    { header: "IMAGE", value: (r) => r.image },
    { header: "ENTRY", value: (r) => r.entry ?? "-" },
    { header: "COMMAND", value: (r) => (r.command ? r.command.join(" ") : "-") },
    {
      header: "AVAILABLE",
      value: (r) => (r.available === null ? "unknown" : r.available ? "yes" : "no (not built)"),
    },
  ]);
}
