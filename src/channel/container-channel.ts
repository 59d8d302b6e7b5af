import { chmod, lchown, lstat, mkdir, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import type { RepeatedLog } from "../logging/repeated-log.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { ChannelNotConnectedError } from "./channel-errors.ts";
import type { ContainerTraffic } from "./channel-observer.ts";
import type { BadHelloInfo, ChannelStatus, DisconnectReason, HelloInfo } from "./channel-types.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import { InboundBudget } from "./inbound-budget.ts";
import type { BadHelloReason } from "./protocol.ts";
import { type ConnectionHooks, WorkloadConnection } from "./workload-connection.ts";

/** What the channel tells the hub. */
export interface ChannelHooks {
  onConnected(info: HelloInfo): void;
  onDisconnected(reason: DisconnectReason): void;
  onBadHello(reason: BadHelloReason, message: string): void;
  onMessage(data: unknown, ts: number): void;
}

interface HelloWaiter {
  resolve: (info: HelloInfo) => void;
  reject: (err: unknown) => void;
  cleanup: () => void;
}

type ChannelState = "idle" | "listening" | "closed";

/**
 * One container's socket: listens at `<runDir>/<id>/berth.sock` and keeps at
 * most one live connection. A new connection is live only once its hello is
 * good; until then the live one keeps working, and a new connection that
 * arrives while another is still handshaking replaces that one. So a stray or
 * broken connection can never cut off a working workload.
 */
export class ContainerChannel {
  readonly id: string;
  readonly path: string;
  /** Where this channel's traffic is counted (metrics); undefined when nothing is measured. */
  readonly traffic: ContainerTraffic | undefined;
  readonly #limits: ConnectionLimits;
  readonly #hooks: ChannelHooks;
  readonly #log: SystemLogger;
  readonly #repeated: RepeatedLog;
  readonly #connectionHooks: ConnectionHooks;
  /** The channel's one budget of frames sent unasked, across its connections: a reconnect does not refill it. */
  readonly #budget: InboundBudget | undefined;
  readonly #all = new Set<WorkloadConnection>();
  readonly #waiters = new Set<HelloWaiter>();
  #state: ChannelState = "idle";
  #server: Server | undefined;
  #live: WorkloadConnection | undefined;
  #handshaking: WorkloadConnection | undefined;
  #lastBadHello: BadHelloInfo | undefined;
  #lastSeenAt: number | undefined;
  #closing: Promise<void> | undefined;

  constructor(
    id: string,
    path: string,
    limits: ConnectionLimits,
    hooks: ChannelHooks,
    log: SystemLogger,
    repeated: RepeatedLog,
    traffic?: ContainerTraffic,
  ) {
    this.id = id;
    this.traffic = traffic;
    this.path = path;
    this.#limits = limits;
    this.#hooks = hooks;
    this.#log = log;
    this.#repeated = repeated;
    const rates = { framesPerSecond: limits.messageRate, bytesPerSecond: limits.messageBytesRate };
    this.#budget = InboundBudget.isOn(rates) ? new InboundBudget(rates) : undefined;
    this.#connectionHooks = {
      onHello: (conn, info) => this.#onHello(conn, info),
      onBadHello: (_conn, reason, message) => {
        this.#lastBadHello = { reason, message, at: Date.now() };
        this.#hooks.onBadHello(reason, message);
      },
      onMessage: (data, ts) => this.#hooks.onMessage(data, ts),
      onClose: (conn, reason, wasReady) => this.#onClose(conn, reason, wasReady),
      onSocketClosed: (conn) => this.#all.delete(conn),
    };
  }

  /** The connection that completed its handshake, if any. */
  get live(): WorkloadConnection | undefined {
    return this.#live;
  }

  get lastBadHello(): BadHelloInfo | undefined {
    return this.#lastBadHello;
  }

  /**
   * Creates the directory if missing, replaces a stale socket file, listens,
   * and gives the socket to the workload's user alone (0600). Until the chmod
   * the socket carries the umask's mode, which lets no other user connect
   * (connecting needs write permission); the directory is root's.
   */
  async open(owner: { uid: number; gid: number }): Promise<void> {
    const dir = dirname(this.path);
    const created = await mkdir(dir, { recursive: true, mode: 0o755 });
    if (created !== undefined) await chmod(dir, 0o755); // mkdir's mode is cut by the umask
    if (!(await lstat(dir)).isDirectory()) throw new Error(`${dir} is not a directory`);
    await rm(this.path, { force: true });
    if (this.#state !== "idle") throw new ChannelNotConnectedError("The channel was closed while it opened.");
    const server = createServer((socket) => this.#accept(socket));
    server.on("error", (err) => this.#log.error({ containerId: this.id, err }, "channel socket failed"));
    this.#server = server;
    this.#state = "listening";
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(this.path, () => {
          server.off("error", reject);
          resolve();
        });
      });
      await chmod(this.path, 0o600);
      // lchown: never follow a link someone might have put in the socket's place.
      await lchown(this.path, owner.uid, owner.gid);
    } catch (err) {
      await this.close();
      throw err;
    }
    this.#log.info({ containerId: this.id, uid: owner.uid }, "channel listening");
  }

  /**
   * Stops listening, drops every connection (calls in flight fail with
   * CHANNEL_DISCONNECTED), rejects hello waiters and removes the socket file.
   * Idempotent; a second call waits for the first.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const wasListening = this.#state === "listening";
    this.#state = "closed";
    for (const conn of [...this.#all]) conn.destroy();
    this.#all.clear();
    const closed = new ChannelNotConnectedError("The channel was closed before the workload said hello.");
    for (const waiter of [...this.#waiters]) {
      waiter.cleanup();
      waiter.reject(closed);
    }
    const server = this.#server;
    if (server !== undefined) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.removeAllListeners("error");
    }
    await rm(this.path, { force: true }).catch((err: unknown) =>
      this.#log.warn({ containerId: this.id, err }, "could not remove channel socket"),
    );
    if (wasListening) this.#log.info({ containerId: this.id }, "channel closed");
  }

  /**
   * Resolves with the hello of the live connection (at once, unless `fresh`)
   * or of the next one to complete its handshake.
   */
  waitForHello(opts: { signal?: AbortSignal; fresh?: boolean } = {}): Promise<HelloInfo> {
    const { signal, fresh } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#state === "closed")
      return Promise.reject(new ChannelNotConnectedError("The channel is closed."));
    const current = this.#live?.hello;
    if (current !== undefined && !fresh) return Promise.resolve(current);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        waiter.cleanup();
        reject(signal?.reason);
      };
      const waiter: HelloWaiter = {
        resolve,
        reject,
        cleanup: () => {
          this.#waiters.delete(waiter);
          signal?.removeEventListener("abort", onAbort);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  status(): ChannelStatus {
    const conn = this.#live;
    if (conn?.hello === undefined) {
      const lastSeenAt = this.#lastSeenAt;
      return lastSeenAt === undefined ? { connected: false } : { connected: false, lastSeenAt };
    }
    const status: ChannelStatus = {
      connected: true,
      connectedAt: conn.hello.connectedAt,
      protocol: conn.hello.protocol,
      inFlight: conn.inFlight,
      badFrames: conn.badFrames,
    };
    if (conn.lastSeenAt !== undefined) status.lastSeenAt = conn.lastSeenAt;
    if (conn.rttMs !== undefined) status.rttMs = conn.rttMs;
    if (conn.hello.meta !== undefined) status.meta = conn.hello.meta;
    return status;
  }

  #accept(socket: Socket): void {
    if (this.#state !== "listening") {
      socket.destroy();
      return;
    }
    const conn = new WorkloadConnection(
      socket,
      this.id,
      this.#limits,
      this.#connectionHooks,
      this.#repeated,
      this.traffic,
      this.#budget,
    );
    this.#all.add(conn);
    const previous = this.#handshaking;
    this.#handshaking = conn;
    previous?.close("replaced", {
      code: "REPLACED",
      message: "A newer connection replaced this one before its hello.",
    });
  }

  #onHello(conn: WorkloadConnection, info: HelloInfo): void {
    if (this.#handshaking === conn) this.#handshaking = undefined;
    const previous = this.#live;
    this.#live = conn;
    this.#lastBadHello = undefined;
    // The old one goes first, so listeners see 'disconnected' before the new 'connected'.
    previous?.close("replaced", {
      code: "REPLACED",
      message: "A newer connection to this socket replaced this one.",
    });
    this.#repeated.info(
      `${this.id}:connected`,
      { containerId: this.id },
      { protocol: info.protocol, replaced: previous !== undefined },
      "workload connected",
    );
    for (const waiter of [...this.#waiters]) {
      waiter.cleanup();
      waiter.resolve(info);
    }
    this.#hooks.onConnected(info);
  }

  #onClose(conn: WorkloadConnection, reason: DisconnectReason, wasReady: boolean): void {
    if (this.#handshaking === conn) this.#handshaking = undefined;
    if (this.#live === conn) {
      this.#live = undefined;
      this.#lastSeenAt = conn.lastSeenAt;
    }
    if (!wasReady) return;
    this.#repeated.info(
      `${this.id}:disconnected`,
      { containerId: this.id },
      { reason },
      "workload disconnected",
    );
    this.#hooks.onDisconnected(reason);
  }
}
