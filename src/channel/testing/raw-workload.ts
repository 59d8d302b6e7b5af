import { connect, type Socket } from "node:net";

export type Frame = Record<string, unknown> & { type: string };

/**
 * A workload for tests that speaks the protocol by hand over a real Unix
 * socket, so tests can also send what no well-behaved workload would.
 * Frames from berth are queued until a test takes them with `next()`.
 */
export class RawWorkload {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;
  #buffer = "";
  #waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      this.#buffer += text;
      let nl = this.#buffer.indexOf("\n");
      while (nl !== -1) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        this.#deliver(JSON.parse(line) as Frame);
        nl = this.#buffer.indexOf("\n");
      }
    });
    socket.on("error", () => {});
  }

  static connect(path: string): Promise<RawWorkload> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawWorkload(socket));
      });
    });
  }

  /** Connects and completes the handshake; resolves with the welcome frame. */
  static async hello(path: string, meta?: unknown): Promise<RawWorkload> {
    const w = await RawWorkload.connect(path);
    w.send(meta === undefined ? { type: "hello", protocol: 1 } : { type: "hello", protocol: 1, meta });
    await w.next("welcome");
    return w;
  }

  send(frame: unknown): void {
    this.socket.write(`${JSON.stringify(frame)}\n`);
  }

  sendRaw(text: string): void {
    this.socket.write(text);
  }

  /** The next frame of this type (or any type) from berth, waiting if none has come yet. */
  next(type?: string): Promise<Frame> {
    const match = (f: Frame) => type === undefined || f.type === type;
    const index = this.frames.findIndex(match);
    if (index !== -1) return Promise.resolve(this.frames.splice(index, 1)[0] as Frame);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  /** Answers every request with `answer(data)` from now on (pings too). */
  serve(answer: (data: unknown) => unknown): void {
    const take = (f: Frame) => {
      if (f.type === "request") this.send({ type: "response", id: f.id, data: answer(f.data) });
      else if (f.type === "ping") this.send({ type: "pong", id: f.id });
      else return false;
      return true;
    };
    for (const f of this.frames.splice(0).filter((f) => !take(f))) this.frames.push(f);
    this.#serve = take;
  }

  destroy(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  #serve: ((f: Frame) => boolean) | undefined;

  #deliver(frame: Frame): void {
    if (this.#serve?.(frame)) return;
    const index = this.#waiters.findIndex((w) => w.match(frame));
    if (index !== -1) {
      const [waiter] = this.#waiters.splice(index, 1);
      waiter?.resolve(frame);
      return;
    }
    this.frames.push(frame);
  }
}
