import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { SystemLogger } from "../../logging/system-logger.ts";
import {
  SocketCommunicationHandler,
  type SocketCommunicationOptions,
} from "../socket-communication-handler.ts";
import { socketPathFor } from "../socket-path.ts";

export const TEST_ID = "C0123456789A";

export interface ChannelHarness {
  hub: SocketCommunicationHandler;
  runDir: string;
  path: string;
  /** Every line the hub logged, as parsed JSON. */
  logs: Array<Record<string, unknown>>;
  cleanup(): Promise<void>;
}

/** A hub on a fresh temp run directory, with TEST_ID opened for the current user. */
export async function openHarness(
  options: Partial<SocketCommunicationOptions> = {},
): Promise<ChannelHarness> {
  const runDir = await mkdtemp(join(tmpdir(), "berth-ch-"));
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split("\n")) if (line) logs.push(JSON.parse(line));
      callback();
    },
  });
  const log: SystemLogger = pino({ level: "debug" }, destination);
  const hub = new SocketCommunicationHandler({
    runDir,
    maxFrameBytes: 64 * 1024,
    maxRequestTimeoutMs: 30_000,
    log,
    ...options,
  });
  await hub.open(TEST_ID, { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
  return {
    hub,
    runDir,
    path: socketPathFor(runDir, TEST_ID),
    logs,
    async cleanup() {
      await hub.closeAll();
      await rm(runDir, { recursive: true, force: true });
    },
  };
}
