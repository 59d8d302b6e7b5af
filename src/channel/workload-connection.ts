import type { Socket } from "node:net";
import type { RepeatedLog } from "../logging/repeated-log.ts";
import { ChannelDisconnectedError, ChannelNotConnectedError } from "./channel-errors.ts";
import type { ContainerTraffic } from "./channel-observer.ts";
import type { DisconnectReason, HelloInfo } from "./channel-types.ts";
import type { ConnectionLimits } from "./connection-limits.ts";
import { FrameDecoder } from "./frame-decoder.ts";
import { FrameWriter } from "./frame-writer.ts";
import { Heartbeat } from "./heartbeat.ts";
import type { InboundBudget } from "./inbound-budget.ts";
import { InboundFrames } from "./inbound-frames.ts";
import {
  type BadHelloReason,
  encodeFrame,
  encodeMessage,
  encodeRequest,
  PROTOCOL_VERSION,
  type ProtocolErrorCode,
} from "./protocol.ts";
import { ReadPacer } from "./read-pacer.ts";
import { readHello } from "./read-workload-frame.ts";
import { RoundTrips } from "./round-trips.ts";
import { WorkloadRequests } from "./workload-requests.ts";

export interface ConnectionHooks {
  onHello(conn: WorkloadConnection, info: HelloInfo): void;
  onBadHello(conn: WorkloadConnection, reason: BadHelloReason, message: string): void;
  onMessage(data: unknown, ts: number): void;
  /** The connection is logically over (calls failed); `wasReady` when it had completed its handshake. */
  onClose(conn: WorkloadConnection, reason: DisconnectReason, wasReady: boolean): void;
  /** The socket itself is gone: nothing of this connection is left. */
  onSocketClosed(conn: WorkloadConnection): void;
}

type ConnectionState = "handshaking" | "ready" | "closed";

/**
 * One accepted socket from a workload: the handshake, framed writes, the
 * requests (WorkloadRequests) and pings (RoundTrips) in flight, and the
 * heartbeat; what each frame of a ready connection makes happen, bad frames
 * included, is InboundFrames'.
 * It never throws into the socket's event handlers; a misbehaving peer costs
 * at most one frame of memory and is cut off once it is clearly broken.
 *
 * A little over 300 lines, kept whole on purpose: the handshake, the state it
 * moves through and the one close path that every ending (peer gone, bad
 * frames, heartbeat lost, berth closing) goes through are one idea, and split
 * up they would have to share the socket and the state behind each other's back.
 */
export class WorkloadConnection {
  readonly #socket: Socket;
  readonly #containerId: string;
  readonly #limits: ConnectionLimits;
  readonly #hooks: ConnectionHooks;
  /** Everything a workload can make happen at will is logged once, then counted, per container. */
  readonly #repeated: RepeatedLog;
  readonly #decoder: FrameDecoder;
  readonly #requests: WorkloadRequests;
  readonly #roundTrips = new RoundTrips();
  readonly #inbound: InboundFrames;
  readonly #heartbeat: Heartbeat;
  readonly #writer: FrameWriter;
  readonly #traffic: ContainerTraffic | undefined;
  /** What the workload sends unasked (undefined: no limit); responses and pongs are never charged. */
  readonly #budget: InboundBudget | undefined;
  readonly #pacer: ReadPacer;
  #state: ConnectionState = "handshaking";
  #closeReason: DisconnectReason | undefined;
  #helloTimer: NodeJS.Timeout | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #hello: HelloInfo | undefined;
  #lastSeenAt: number | undefined;

  constructor(
    socket: Socket,
    containerId: string,
    limits: ConnectionLimits,
    hooks: ConnectionHooks,
    repeated: RepeatedLog,
    traffic?: ContainerTraffic,
    /** The channel's budget of frames sent unasked (shared by its connections); undefined: no limit. */
    budget?: InboundBudget,
  ) {
    this.#socket = socket;
    this.#traffic = traffic;
    this.#requests = new WorkloadRequests(traffic);
    this.#containerId = containerId;
    this.#limits = limits;
    this.#hooks = hooks;
    this.#repeated = repeated;
    this.#decoder = new FrameDecoder(limits.maxFrameBytes, {
      onLine: (line) => this.#onLine(line),
      onOversize: (bytes) => this.#onOversize(bytes),
    });
    this.#heartbeat = new Heartbeat(
      limits.heartbeatIntervalMs,
      limits.heartbeatMisses,
      () => this.#writer.writeIfRoom(this.#roundTrips.heartbeat()),
      () => {
        this.#repeated.warn(
          `${containerId}:heartbeat_timeout`,
          { containerId },
          { silentMs: limits.heartbeatIntervalMs * limits.heartbeatMisses },
          "workload stopped answering",
        );
        this.close("heartbeat_timeout");
      },
    );
    this.#writer = new FrameWriter(socket, limits.maxFrameBytes, limits.maxQueuedBytes, traffic);
    this.#inbound = new InboundFrames({
      containerId,
      limits,
      requests: this.#requests,
      roundTrips: this.#roundTrips,
      writer: this.#writer,
      repeated,
      traffic,
      onMessage: (data, ts) => this.#hooks.onMessage(data, ts),
      close: (reason, error) => this.close(reason, error),
    });
    this.#budget = budget;
    this.#pacer = new ReadPacer({
      socket,
      sliceBytes: limits.readSliceBytes,
      budget: this.#budget,
      onHold: (ms, started) => traffic?.held(ms, started),
    });
    socket.on("data", (chunk: Buffer) => {
      this.#traffic?.received(chunk.length);
      this.#lastSeenAt = Date.now();
      this.#heartbeat.sawTraffic = true;
      this.#decoder.push(chunk);
      this.#pacer.afterChunk(chunk.length);
    });
    socket.on("end", () => this.close("closed"));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      const peerGone = err.code === "EPIPE" || err.code === "ECONNRESET";
      if (!peerGone)
        this.#repeated.warn(
          `${containerId}:socket_error`,
          { containerId },
          { err },
          "workload socket failed",
        );
      this.close(peerGone ? "closed" : "socket_error");
    });
    socket.on("close", () => {
      clearTimeout(this.#lingerTimer);
      this.close("closed");
      this.#hooks.onSocketClosed(this);
    });
    this.#helloTimer = setTimeout(() => {
      this.#refuseHello("hello_timeout", "HELLO_TIMEOUT", `No hello within ${limits.helloTimeoutMs} ms.`);
    }, limits.helloTimeoutMs);
  }

  /** What the workload said in its hello; undefined until the handshake is done. */
  get hello(): HelloInfo | undefined {
    return this.#hello;
  }

  /** The last time any byte arrived (epoch ms). */
  get lastSeenAt(): number | undefined {
    return this.#lastSeenAt;
  }

  /** The last measured round trip in ms (heartbeat or ping). */
  get rttMs(): number | undefined {
    return this.#roundTrips.rttMs;
  }

  get inFlight(): number {
    return this.#requests.size;
  }

  get badFrames(): number {
    return this.#inbound.badFrames;
  }

  /** Resolves once the frame is handed to the kernel. */
  send(data: unknown): Promise<void> {
    let line: string;
    try {
      this.#assertReady();
      line = encodeMessage(FrameWriter.serialize(data));
      this.#writer.check(line);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.#writer.write(line, (err) => {
        if (err) reject(new ChannelDisconnectedError(this.#closeReason ?? "closed", { cause: err }));
        else resolve();
      });
    });
  }

  request(data: unknown, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    let line: string;
    const id = this.#requests.nextId();
    try {
      this.#assertReady();
      if (signal?.aborted) throw signal.reason;
      line = encodeRequest(id, FrameWriter.serialize(data));
      this.#writer.check(line);
    } catch (err) {
      return this.#requests.refuse(err);
    }
    return this.#requests.add(id, timeoutMs, signal, () => this.#writer.write(line));
  }

  /** Round-trip time in ms. */
  ping(timeoutMs: number): Promise<number> {
    const { id, line } = this.#roundTrips.next();
    try {
      this.#assertReady();
      this.#writer.check(line);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#roundTrips.wait(id, timeoutMs, () => this.#writer.write(line));
  }

  /**
   * Ends the connection: fails every call in flight at once, then tells the
   * peer why (when `error` is given) and closes the socket. Idempotent.
   */
  close(reason: DisconnectReason, error?: { code: ProtocolErrorCode; message: string }): void {
    if (this.#state === "closed") return;
    const wasReady = this.#state === "ready";
    this.#state = "closed";
    this.#closeReason = reason;
    clearTimeout(this.#helloTimer);
    this.#heartbeat.stop();
    this.#pacer.close();
    this.#decoder.reset();
    this.#requests.failAll(() => new ChannelDisconnectedError(reason));
    this.#roundTrips.failAll(() => new ChannelDisconnectedError(reason));
    const socket = this.#socket;
    if (error !== undefined && socket.writable) {
      this.#writer.flush();
      socket.end(encodeFrame({ type: "error", code: error.code, message: error.message }));
      // A peer that does not read would keep the socket open forever.
      this.#lingerTimer = setTimeout(() => socket.destroy(), this.#limits.lingerMs);
    } else {
      socket.destroy();
    }
    this.#hooks.onClose(this, reason, wasReady);
  }

  /** Closes at once, without a word to the peer (berth is closing the channel). */
  destroy(): void {
    this.close("channel_closed");
    clearTimeout(this.#lingerTimer);
    this.#socket.destroy();
  }

  #assertReady(): void {
    if (this.#state !== "ready") throw new ChannelNotConnectedError();
  }

  #onLine(line: string): void {
    if (this.#state === "ready") {
      // Sent unasked: charged to the budget (characters for bytes — exact for ASCII, near enough else).
      if (!this.#inbound.frame(line)) this.#budget?.spend(line.length + 1);
    } else if (this.#state === "handshaking") this.#onHello(line);
  }

  #onOversize(bytes: number): void {
    if (this.#state === "handshaking") {
      this.#refuseHello(
        "invalid_hello",
        "BAD_HELLO",
        `The hello frame is larger than ${this.#limits.maxFrameBytes} bytes.`,
      );
    } else if (this.#state === "ready") {
      this.#budget?.spend(bytes + 1);
      this.#inbound.bad(
        "FRAME_TOO_LARGE",
        `The frame is ${bytes} bytes; the limit is ${this.#limits.maxFrameBytes}.`,
        bytes,
      );
    }
  }

  #onHello(line: string): void {
    const check = readHello(line);
    if (!check.ok) {
      this.#refuseHello(check.reason, check.code, check.message);
      return;
    }
    clearTimeout(this.#helloTimer);
    this.#state = "ready";
    const info: HelloInfo = { protocol: check.hello.protocol, connectedAt: Date.now() };
    if (check.hello.meta !== undefined) info.meta = check.hello.meta;
    this.#hello = info;
    this.#writer.write(
      encodeFrame({
        type: "welcome",
        protocol: PROTOCOL_VERSION,
        id: this.#containerId,
        maxFrameBytes: this.#limits.maxFrameBytes,
      }),
    );
    this.#heartbeat.start();
    this.#hooks.onHello(this, info);
  }

  #refuseHello(reason: BadHelloReason, code: ProtocolErrorCode, message: string): void {
    if (this.#state !== "handshaking") return;
    const containerId = this.#containerId;
    this.#repeated.warn(
      `${containerId}:bad_hello`,
      { containerId },
      { reason },
      "refused workload handshake",
    );
    this.#hooks.onBadHello(this, reason, message);
    this.close("closed", { code, message });
  }
}
