import type { ActivityEntry, StatusChangedEvent } from "#protocol";
import { BerthClient } from "../../packages/client/src/index.ts";
import type { Client, RawClient } from "./test-server.ts";

type Pushed = "container:status_changed" | "activity_log";
type Payload<E extends Pushed> = E extends "activity_log" ? ActivityEntry : StatusChangedEvent;

/** Listens on an SDK client or a bare socket alike; returns the unsubscribe. */
function listen<E extends Pushed>(
  client: Client | RawClient,
  event: E,
  fn: (e: Payload<E>) => void,
): () => void {
  if (client instanceof BerthClient) return client.on(event, fn as never);
  const raw = client as unknown as { on(e: string, f: unknown): void; off(e: string, f: unknown): void };
  raw.on(event, fn);
  return () => raw.off(event, fn);
}

/** Resolves with the first pushed status change that matches. */
export function nextStatus(
  client: Client | RawClient,
  match: (e: StatusChangedEvent) => boolean,
): Promise<StatusChangedEvent> {
  return new Promise((resolve) => {
    const off = listen(client, "container:status_changed", (e) => {
      if (!match(e)) return;
      off();
      resolve(e);
    });
  });
}

/** Resolves with the first pushed activity entry that matches. */
export function nextActivity(
  client: Client | RawClient,
  match: (e: ActivityEntry) => boolean,
): Promise<ActivityEntry> {
  return new Promise((resolve) => {
    const off = listen(client, "activity_log", (e) => {
      if (!match(e)) return;
      off();
      resolve(e);
    });
  });
}

/** Collects every pushed activity entry until stopped. */
export function collectActivity(client: Client | RawClient): { entries: ActivityEntry[]; stop(): void } {
  const entries: ActivityEntry[] = [];
  const stop = listen(client, "activity_log", (e) => entries.push(e));
  return { entries, stop };
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
