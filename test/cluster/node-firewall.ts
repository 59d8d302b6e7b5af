import { command } from "./testbed/command.ts";
import type { Testbed } from "./testbed/testbed.ts";

/** `iptables …` in a node's own namespace (its own firewall, which its engine and its agent keep). */
export function iptablesOn(bed: Testbed, index: number, ...args: string[]): Promise<string> {
  return command("ip", ["netns", "exec", bed.node(index).node.netns, "iptables", "-w", "5", ...args]);
}

/** berth's node agent's rules in a node's firewall: its jumps from DOCKER-USER and INPUT. */
export async function agentRules(bed: Testbed, index: number): Promise<string[]> {
  const lines = [
    ...(await iptablesOn(bed, index, "-S", "DOCKER-USER").catch(() => "")).split("\n"),
    ...(await iptablesOn(bed, index, "-S", "INPUT")).split("\n"),
  ];
  return lines.filter((l) => l.includes("berth:node-agent"));
}
