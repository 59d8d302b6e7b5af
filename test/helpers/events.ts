import type { ActivityEntry, StatusChangedEvent } from "#protocol";
import type { Client } from "./test-server.ts";

/** Resolves with the first pushed status change that matches. */
export function nextStatus(
  client: Client,
  match: (e: StatusChangedEvent) => boolean,
): Promise<StatusChangedEvent> {
  return new Promise((resolve) => {
    const listener = (e: StatusChangedEvent) => {
      if (!match(e)) return;
      client.off("container:status_changed", listener);
      resolve(e);
    };
    client.on("container:status_changed", listener);
  });
}

/** Resolves with the first pushed activity entry that matches. */
export function nextActivity(client: Client, match: (e: ActivityEntry) => boolean): Promise<ActivityEntry> {
  return new Promise((resolve) => {
    const listener = (e: ActivityEntry) => {
      if (!match(e)) return;
      client.off("activity_log", listener);
      resolve(e);
    };
    client.on("activity_log", listener);
  });
}

/** Collects every pushed activity entry until stopped. */
export function collectActivity(client: Client): { entries: ActivityEntry[]; stop(): void } {
  const entries: ActivityEntry[] = [];
  const listener = (e: ActivityEntry) => entries.push(e);
  client.on("activity_log", listener);
  return { entries, stop: () => client.off("activity_log", listener) };
}

/**
 * A workload that says hello (so that create answers once ready), then runs
 * `body`. `welcome` resolves when berth's welcome arrives: a body that exits
 * or blocks its event loop waits for it, so that the hello is surely out
 * first, however loaded the machine.
 */
export function helloThen(body: string): { files: Record<string, string> } {
  const prelude = `const s = require("node:net").connect(process.env.BERTH_SOCKET, () => s.write(JSON.stringify({ type: "hello", protocol: 1 }) + "\\n")); s.on("error", () => {}); s.on("data", () => {}); const welcome = new Promise((r) => s.once("data", r));`;
  return { files: { "index.js": `${prelude}\n${body}` } };
}
