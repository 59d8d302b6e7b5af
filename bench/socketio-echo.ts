import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { io, type Socket } from "socket.io-client";

/**
 * The Socket.IO baseline: a plain socket.io server (default options) whose
 * one event answers its acknowledgement with the payload, and a
 * socket.io-client over the websocket transport on loopback — berth's
 * transport with nothing of berth behind it.
 */
export class SocketIoEcho {
  readonly #http: HttpServer;
  readonly #io: Server;
  readonly #client: Socket;

  private constructor(http: HttpServer, server: Server, client: Socket) {
    this.#http = http;
    this.#io = server;
    this.#client = client;
  }

  static async start(): Promise<SocketIoEcho> {
    const http = createServer();
    const server = new Server(http, { serveClient: false });
    server.on("connection", (socket) => {
      socket.on("echo", (data: unknown, ack: (answer: unknown) => void) => ack(data));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const { port } = http.address() as AddressInfo;
    const client = io(`http://127.0.0.1:${port}`, { transports: ["websocket"] });
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));
    return new SocketIoEcho(http, server, client);
  }

  call(data: unknown): Promise<unknown> {
    return this.#client.emitWithAck("echo", data);
  }

  async close(): Promise<void> {
    this.#client.disconnect();
    await this.#io.close();
    this.#http.close();
  }
}
