import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";

/**
 * The floor: a raw NDJSON request/response over a Unix socket to an echo peer
 * in another Node.js process (as a workload is), with nothing of berth's in
 * between — id, map of waiting calls, one JSON.stringify and one JSON.parse a
 * side. Whatever berth adds is measured against this.
 */
export class NdjsonFloor {
  readonly #server: Server;
  readonly #peer: ChildProcess;
  readonly #socket: Socket;
  readonly #waiting = new Map<string, (data: unknown) => void>();
  #seq = 0;
  #buffer = "";

  private constructor(server: Server, peer: ChildProcess, socket: Socket) {
    this.#server = server;
    this.#peer = peer;
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.#onData(chunk));
  }

  static async start(dir: string): Promise<NdjsonFloor> {
    const path = join(dir, "floor.sock");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const peer = spawn(process.execPath, [new URL("./ndjson-echo-peer.ts", import.meta.url).pathname, path], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    const [socket] = (await once(server, "connection")) as [Socket];
    return new NdjsonFloor(server, peer, socket);
  }

  call(data: unknown): Promise<unknown> {
    const id = String(++this.#seq);
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#socket.write(`{"type":"request","id":"${id}","data":${JSON.stringify(data)}}\n`);
    });
  }

  async close(): Promise<void> {
    const exited = this.#peer.exitCode === null ? once(this.#peer, "exit") : Promise.resolve();
    this.#socket.destroy();
    this.#server.close();
    await exited;
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    let start = 0;
    for (let nl = this.#buffer.indexOf("\n"); nl !== -1; nl = this.#buffer.indexOf("\n", start)) {
      const frame = JSON.parse(this.#buffer.slice(start, nl)) as { id: string; data: unknown };
      start = nl + 1;
      const resolve = this.#waiting.get(frame.id);
      this.#waiting.delete(frame.id);
      resolve?.(frame.data);
    }
    this.#buffer = this.#buffer.slice(start);
  }
}
