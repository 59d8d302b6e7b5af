import { readFile } from "node:fs/promises";
import type { Socket as NetSocket } from "node:net";
import type { RawClient } from "./test-server.ts";

export const MiB = 1024 * 1024;

/** The flooding fixture (test/fixtures/workloads/flood.js) as `code.files`. */
export async function floodCode(): Promise<{ files: Record<string, string> }> {
  return {
    files: { "index.js": await readFile(new URL("../fixtures/workloads/flood.js", import.meta.url), "utf8") },
  };
}

/** The TCP socket under a socket.io-client's websocket: pausing it makes a client that does not read. */
export function tcpOf(client: RawClient): NetSocket {
  const ws = (client.io.engine as unknown as { transport: { ws?: { _socket?: NetSocket } } }).transport.ws;
  if (!ws?._socket) throw new Error("the client has no websocket");
  return ws._socket;
}

/** Emits without awaiting the answer (a client that does not read never gets it). */
export function emitRaw(client: RawClient, event: string, ...args: unknown[]): void {
  (client as unknown as { emit(e: string, ...a: unknown[]): void }).emit(event, ...args);
}
