import type { ContainerInfo, ContainerSpecInfo } from "@berth/client";
import type { Command } from "commander";
import { addJsonOption, contextOf } from "../command-context.ts";
import { formatAgo, formatTime, formatUptime } from "../output/format.ts";

/** `berth status NAME`: one container in full, as `kubectl describe` shows one object. */
export function registerStatus(program: Command): void {
  const cmd = program
    .command("status")
    .alias("inspect")
    .description("show one container: state, health, release, channel, and its spec (secret values never)")
    .argument("<name>", "the container's name or id");
  addJsonOption(cmd, "the container as one JSON document");
  cmd.addHelpText(
    "after",
    `
Examples:
  $ berth status web
  $ berth status web --json | jq .health`,
  );
  cmd.action(async (name: string, _opts: object, command: Command) => {
    const { flags, out, client } = contextOf<object>(command);
    const info = await client(async (berth) => (await berth.containers.get(name)).status({ spec: true }));
    if (flags.json) return out.jsonDocument(info);
    for (const [key, value] of describe(info, Date.now())) out.line(`${`${key}:`.padEnd(14)}${value}`);
  });
}

/** The lines of `berth status`, as label and value. */
export function describe(
  info: ContainerInfo & { spec?: ContainerSpecInfo },
  now: number,
): [string, string][] {
  const lines: [string, string][] = [
    ["Name", info.name],
    ["ID", info.id],
    ["State", info.state + (info.exitCode !== undefined ? ` (exit code ${info.exitCode})` : "")],
    ["Health", info.health],
    ["Release", info.release === undefined ? "-" : String(info.release)],
    ["Image", info.image],
    ["Runtime", info.runtime ?? "-"],
    ["Uptime", formatUptime(info.startedAt, now)],
    ["Restarts", String(info.restartCount)],
    ["Created", `${formatTime(info.createdAt)} (${formatAgo(info.createdAt, now)})`],
    ["Restart", info.restartPolicy],
    ["Network", info.network],
  ];
  const labels = Object.entries(info.labels);
  lines.push(["Labels", labels.length === 0 ? "-" : labels.map(([k, v]) => `${k}=${v}`).join(", ")]);
  const ch = info.channel;
  if (ch) {
    const rtt = ch.rttMs !== undefined ? `, rtt ${ch.rttMs} ms` : "";
    lines.push(["Channel", ch.connected ? `connected${rtt}` : "not connected"]);
  } else {
    lines.push(["Channel", "-"]);
  }
  if (info.spec) lines.push(...describeSpec(info.spec));
  return lines;
}

/**
 * The spec's lines: berth sends no secret value (`secretEnvKeys` holds the
 * keys alone), so none can be printed. Values are the owner's text, printed
 * as JSON strings where a space or a comma inside one would mislead.
 */
function describeSpec(spec: ContainerSpecInfo): [string, string][] {
  const env = Object.entries(spec.env);
  const r = spec.resources;
  const h = spec.healthCheck;
  return [
    ["Command", spec.command ? JSON.stringify(spec.command) : "the image's own"],
    ["Env", env.length === 0 ? "-" : env.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")],
    ...describeCuts(spec),
    [
      "Secret env",
      spec.secretEnvKeys.length === 0 ? "-" : `${spec.secretEnvKeys.join(", ")} (values hidden)`,
    ],
    ["Limits", `${r.memoryMb} MB memory, ${r.cpus} ${r.cpus === 1 ? "CPU" : "CPUs"}, ${r.pids} processes`],
    [
      "Health check",
      h ? `request ${JSON.stringify(h.request)}${h.intervalMs ? ` every ${h.intervalMs} ms` : ""}` : "-",
    ],
  ];
}

/** What berth cut from the spec, said in words: a cut value already ends with " …[truncated]". */
function describeCuts(spec: ContainerSpecInfo): [string, string][] {
  const t = spec.truncated;
  if (!t) return [];
  const parts: string[] = [];
  if (t.env.length > 0) parts.push(`env ${t.env.join(", ")} cut to their first 1,024 characters`);
  if (t.args.length > 0) parts.push(`${t.args.length} command argument(s) cut likewise`);
  if (t.omittedEnv > 0) parts.push(`${t.omittedEnv} more env entries not shown`);
  if (t.omittedArgs > 0) parts.push(`${t.omittedArgs} more command arguments not shown`);
  if (t.healthCheck) parts.push("the health check shown as cut JSON text");
  return [["Cut", parts.join("; ")]];
}
