import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Answers one request; `n` counts the requests this route has seen, from 1. */
export type EngineRoute = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/**
 * A stand-in for the Docker engine: a real HTTP server on a real Unix socket
 * (in a temporary directory), answering only the routes a test gives it, so
 * that the real dockerode client can be driven into every failure the engine
 * can cause — status codes, silence, a connection cut mid-answer — without an
 * engine. A request no route matches gets a 501 that names it, so a test
 * that forgot a route fails loudly. The API version prefix (`/v1.41/…`) is
 * ignored.
 *
 * @example
 *   const engine = await FakeEngine.start();
 *   engine.route("GET", /^\/containers\/c1\/json$/, (_req, res) => FakeEngine.json(res, 404, { message: "no such container" }));
 *   const docker = new DockerodeClient({ socketPath: engine.socketPath, log });
 *   await engine.close();
 */
export class FakeEngine {
  readonly socketPath: string;
  /** Every request received, as "METHOD /path" (query left out), in order. */
  readonly requests: string[] = [];
  readonly #dir: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #routes: { method: string; path: RegExp; answer: EngineRoute; seen: number }[] = [];
  #closing: Promise<void> | undefined;

  private constructor(dir: string) {
    this.#dir = dir;
    this.socketPath = join(dir, "engine.sock");
    this.#server = createServer((req, res) => this.#answer(req, res));
    this.#server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<FakeEngine> {
    const engine = new FakeEngine(await mkdtemp(join(tmpdir(), "berth-fake-engine-")));
    await new Promise<void>((resolve, reject) => {
      engine.#server.once("error", reject);
      engine.#server.listen(engine.socketPath, resolve);
    });
    return engine;
  }

  /** Writes a JSON answer with `status`. */
  static json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  /** Adds a route; a later route for the same request takes precedence. */
  route(method: string, path: RegExp, answer: EngineRoute): this {
    this.#routes.unshift({ method, path, answer, seen: 0 });
    return this;
  }

  /** Stops listening, cuts every connection still open, and removes the directory. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const socket of this.#sockets) socket.destroy();
      await closed;
      await rm(this.#dir, { recursive: true, force: true });
    })();
    return this.#closing;
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0]!.replace(/^\/v\d+\.\d+/, "");
    this.requests.push(`${req.method} ${path}`);
    // The body is not needed; reading it lets the request end.
    req.resume();
    const route = this.#routes.find((r) => r.method === req.method && r.path.test(path));
    if (route === undefined) {
      FakeEngine.json(res, 501, { message: `the fake engine has no route for ${req.method} ${path}` });
      return;
    }
    route.answer(req, res, ++route.seen);
  }
}
