import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

/**
 * The worst client for berth's memory: a Socket.IO connection over a
 * websocket spoken by hand on a raw TCP socket, which stops reading once it
 * has subscribed, yet sends a heartbeat answer (`3`, pong) every few seconds
 * without reading the server's pings, so that Socket.IO's own heartbeat
 * never closes it. (A paused socket.io-client is closed by its own ping
 * timer after 45 s; a hostile client has no such timer.)
 */
export class StalledClient {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  readonly #waiters: { match: (text: string) => boolean; resolve: (text: string) => void }[] = [];
  readonly #pong: NodeJS.Timeout;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", () => {});
    this.#pong = setInterval(() => this.#send("3"), 5_000);
  }

  static async connect(port: number, token: string): Promise<StalledClient> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.write(
      [
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1",
        `Host: 127.0.0.1:${port}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}`,
        "Sec-WebSocket-Version: 13",
        "",
        "",
      ].join("\r\n"),
    );
    const head = await new Promise<Buffer>((resolve, reject) => {
      let got = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        const end = got.indexOf("\r\n\r\n");
        if (end === -1) return;
        socket.off("data", onData);
        if (got.subarray(0, end).toString().startsWith("HTTP/1.1 101")) resolve(got.subarray(end + 4));
        else reject(new Error(`no websocket upgrade: ${got.subarray(0, end).toString()}`));
      };
      socket.on("data", onData);
    });
    const client = new StalledClient(socket);
    client.#onData(head);
    await client.#next((t) => t.startsWith("0{"));
    client.#send(`40${JSON.stringify({ token })}`);
    await client.#next((t) => t.startsWith("40"));
    return client;
  }

  /** Subscribes to a container's messages and waits for the answer. */
  async subscribe(id: string): Promise<void> {
    this.#send(`420${JSON.stringify(["container:subscribe", { id }])}`);
    const answer = await this.#next((t) => t.startsWith("430"));
    if (!answer.includes('"ok":true')) throw new Error(`container:subscribe: ${answer}`);
  }

  /** Stops reading: what berth sends it piles up in berth (and, first, in the kernel's buffers). */
  pause(): void {
    this.#socket.pause();
  }

  /** Reads again; resolves with the first `container:dropped` that arrives (as sent, JSON). */
  resumeUntilDropped(): Promise<{ id: string; stream: string; count: number }> {
    const dropped = this.#next((t) => t.startsWith('42["container:dropped"'));
    this.#socket.resume();
    return dropped.then(
      (t) => (JSON.parse(t.slice(2)) as [string, { id: string; stream: string; count: number }])[1],
    );
  }

  get closed(): boolean {
    return this.#socket.destroyed || this.#socket.readableEnded;
  }

  close(): void {
    clearInterval(this.#pong);
    this.#socket.destroy();
  }

  #next(match: (text: string) => boolean): Promise<string> {
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  /** A masked text frame, as a client must send. */
  #send(text: string): void {
    const payload = Buffer.from(text);
    const mask = randomBytes(4);
    const length = payload.length;
    const header =
      length < 126
        ? Buffer.from([0x81, 0x80 | length])
        : length < 65_536
          ? Buffer.from([0x81, 0x80 | 126, length >> 8, length & 0xff])
          : Buffer.concat([Buffer.from([0x81, 0x80 | 127]), bigLength(length)]);
    for (let i = 0; i < length; i++) payload[i]! ^= mask[i % 4]!;
    this.#socket.write(Buffer.concat([header, mask, payload]));
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      if (b.length < offset + length) return;
      const opcode = b[0]! & 0x0f;
      const payload = b.subarray(offset, offset + length);
      this.#buffer = b.subarray(offset + length);
      if (opcode !== 1) continue;
      const text = payload.toString();
      const i = this.#waiters.findIndex((w) => w.match(text));
      if (i !== -1) this.#waiters.splice(i, 1)[0]!.resolve(text);
    }
  }
}

function bigLength(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
