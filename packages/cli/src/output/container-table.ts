import type { ContainerInfo } from "@berth/client";
import { formatAgo, formatUptime } from "./format.ts";
import type { Output } from "./output.ts";
import { formatTable } from "./table.ts";

/** The table `berth ls` prints: NAME, ID, STATE, HEALTH, RELEASE, UPTIME, RESTARTS, CREATED, IMAGE. */
export function containerTable(containers: readonly ContainerInfo[], out: Output, now: number): string {
  const table = formatTable(containers, [
    { header: "NAME", value: (c) => c.name },
    { header: "ID", value: (c) => c.id },
    { header: "STATE", value: (c) => c.state },
    { header: "HEALTH", value: (c) => c.health },
    { header: "RELEASE", value: (c) => (c.release === undefined ? "-" : String(c.release)), right: true },
    { header: "UPTIME", value: (c) => formatUptime(c.startedAt, now) },
    { header: "RESTARTS", value: (c) => String(c.restartCount), right: true },
    { header: "CREATED", value: (c) => formatAgo(c.createdAt, now) },
    { header: "IMAGE", value: (c) => c.image },
  ]);
  // Colour after alignment: escape codes would count as width.
  if (!out.interactive) return table;
  const [header, ...rows] = table.split("\n");
  return [out.color.bold(header ?? ""), ...rows].join("\n");
}
