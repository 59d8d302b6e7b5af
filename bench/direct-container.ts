import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { chmod, lchown, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import type Dockerode from "dockerode";
import type { Config } from "../src/config/config.ts";
import { buildCreateBody } from "../src/containers/container-config.ts";

/** A container made straight through dockerode, laid out on disk as berth lays out its own. */
export interface DirectContainer {
  id: string;
  uid: number;
  base: string;
  socketDir: string;
  socketPath: string;
  container: Dockerode.Container | undefined;
}

let made = 0;

/**
 * Writes the code (release 1 and a `current` link, as berth does), then
 * creates and starts the container with berth's own create body — same image, CPU limit,
 * hardened settings and mounts — labelled `berth.instance=<instanceLabel>` so
 * that cleanup finds it. `beforeStart` runs once the socket directory exists
 * (to listen on the socket there).
 */
export async function startDirect(opts: {
  docker: Dockerode;
  config: Config;
  root: string;
  instanceLabel: string;
  code: string;
  /** The file the code is written to (default `index.js`, what the Node.js image runs). */
  entry?: string;
  /** The image (default berth's default image). */
  image?: string;
  beforeStart: (c: DirectContainer) => Promise<void>;
  /** Where the socket directory goes (default `<root>/<id>/run`). */
  socketDirFor?: (id: string) => string;
}): Promise<DirectContainer> {
  const id = `D${randomBytes(8).toString("hex").toUpperCase().slice(0, 11)}`;
  const base = join(opts.root, id);
  const socketDir = opts.socketDirFor?.(id) ?? join(base, "run");
  const c: DirectContainer = {
    id,
    uid: 298_000 + made++,
    base,
    socketDir,
    socketPath: join(socketDir, "berth.sock"),
    container: undefined,
  };
  await mkdir(socketDir, { recursive: true, mode: 0o755 });
  await chmod(socketDir, 0o755);
  await mkdir(join(base, "code", "releases", "1"), { recursive: true });
  await writeFile(join(base, "code", "releases", "1", opts.entry ?? "index.js"), opts.code);
  await symlink("releases/1", join(base, "code", "current"));
  await opts.beforeStart(c);
  const body = buildCreateBody({
    id,
    owner: "bench",
    instanceId: opts.instanceLabel,
    uid: c.uid,
    spec: { name: `direct-${id.toLowerCase()}` },
    image: opts.image ?? opts.config.defaultImage,
    socketDir,
    codeDir: join(base, "code"),
    hasCode: true,
    networkName: undefined,
    config: opts.config,
  });
  c.container = await opts.docker.createContainer(body);
  await c.container.start();
  return c;
}

/** Removes the container (by force) and its files. */
export async function removeDirect(c: DirectContainer): Promise<void> {
  await c.container?.remove({ force: true, v: true }).catch(() => {});
  await rm(c.base, { recursive: true, force: true });
  await rm(c.socketDir, { recursive: true, force: true });
}

/**
 * A bare Unix socket server where a workload's hello arrives, made the way
 * berth makes its channel socket (listen, then chmod 0600 and lchown to the
 * container's uid); answers the hello with a welcome so that the workload
 * stays content until it is removed.
 */
export class HelloListener {
  readonly hello: Promise<unknown>;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server, id: string) {
    this.#server = server;
    this.hello = new Promise((resolve) => {
      server.on("connection", (socket) => {
        this.#sockets.add(socket);
        let buffer = "";
        let welcomed = false;
        socket.setEncoding("utf8");
        socket.on("error", () => {});
        socket.on("data", (chunk: string) => {
          if (welcomed) return; // the workload's heartbeat answers and the like: not needed here
          buffer += chunk;
          const nl = buffer.indexOf("\n");
          if (nl === -1) return;
          const frame = JSON.parse(buffer.slice(0, nl)) as { type?: string };
          if (frame.type !== "hello") return;
          welcomed = true;
          resolve(frame);
          socket.write(`{"type":"welcome","protocol":1,"id":"${id}","maxFrameBytes":1048576}\n`);
        });
      });
    });
  }

  static async listen(c: DirectContainer): Promise<HelloListener> {
    const server = createServer();
    server.listen(c.socketPath);
    await once(server, "listening");
    await chmod(c.socketPath, 0o600);
    await lchown(c.socketPath, c.uid, c.uid);
    return new HelloListener(server, c.id);
  }

  close(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
  }
}
