import type { Socket } from "node:net";
import type { RepeatedLog } from "../logging/repeated-log.ts";
import { jsonTextTooDeep, MAX_JSON_DEPTH } from "../util/json-depth.ts";
import { BadFrameMeter } from "./bad-frame-meter.ts";
import { ChannelDisconnectedError, ChannelNotConnectedError, WorkloadError } from "./channel-errors.ts";
import type { ContainerTraffic } from "./channel-observer.ts";
import type { DisconnectReason, HelloInfo } from "./channel-types.ts";
import { FrameDecoder } from "./frame-decoder.ts";
import { FrameWriter } from "./frame-writer.ts";
import { Heartbeat } from "./heartbeat.ts";
import { InFlightCalls } from "./in-flight-calls.ts";
import type { InboundBudget } from "./inbound-budget.ts";
import {
  type BadHelloReason,
  checkHello,
  encodeFrame,
  encodeMessage,
  encodePing,
  encodePong,
  encodeRequest,
  MAX_FRAME_DEPTH,
  PROTOCOL_VERSION,
  type ProtocolErrorCode,
} from "./protocol.ts";
import { ReadPacer } from "./read-pacer.ts";

export interface ConnectionLimits {
  maxFrameBytes: number;
  maxQueuedBytes: number;
  helloTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Silent heartbeat intervals in a row after which the peer is dead. */
  heartbeatMisses: number;
  badFrameLimit: number;
  badFrameWindowMs: number;
  /** How long a connection closed with an error frame may take to read it before it is cut. */
  lingerMs: number;
  /** Config BERTH_CHANNEL_MESSAGE_RATE / _BYTES_RATE: what a workload may send unasked, a second (0: no limit). */
  messageRate: number;
  messageBytesRate: number;
  /** Bytes read from one socket before it lets the others have a turn. */
  readSliceBytes: number;
}

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
 * requests and pings in flight, the heartbeat and the bad-frame accounting.
 * It never throws into the socket's event handlers; a misbehaving peer costs
 * at most one frame of memory and is cut off once it is clearly broken.
 */
export class WorkloadConnection {
  readonly #socket: Socket;
  readonly #containerId: string;
  readonly #limits: ConnectionLimits;
  readonly #hooks: ConnectionHooks;
  /** Everything a workload can make happen at will is logged once, then counted, per container. */
  readonly #repeated: RepeatedLog;
  readonly #decoder: FrameDecoder;
  readonly #requests: InFlightCalls;
  readonly #pings = new InFlightCalls();
  readonly #badFrames: BadFrameMeter;
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
  /** Request ids are this counter in decimal: short, and a stray id is told from a late one by its value. */
  #requestSeq = 0;
  #pingSeq = 0;
  #heartbeatId = "";
  #heartbeatSentAt = 0;
  #hello: HelloInfo | undefined;
  #lastSeenAt: number | undefined;
  #rttMs: number | undefined;

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
    // Requests are timed where they end, from the send time the call keeps anyway: nothing extra per request.
    this.#requests = new InFlightCalls(traffic);
    this.#containerId = containerId;
    this.#limits = limits;
    this.#hooks = hooks;
    this.#repeated = repeated;
    this.#badFrames = new BadFrameMeter(limits.badFrameLimit, limits.badFrameWindowMs);
    this.#decoder = new FrameDecoder(limits.maxFrameBytes, {
      onLine: (line) => this.#onLine(line),
      onOversize: (bytes) => this.#onOversize(bytes),
    });
    this.#heartbeat = new Heartbeat(
      limits.heartbeatIntervalMs,
      limits.heartbeatMisses,
      () => this.#sendHeartbeat(),
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
    return this.#rttMs;
  }

  get inFlight(): number {
    return this.#requests.size;
  }

  get badFrames(): number {
    return this.#badFrames.total;
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
    const id = String(this.#requestSeq + 1);
    try {
      this.#assertReady();
      if (signal?.aborted) throw signal.reason;
      line = encodeRequest(id, FrameWriter.serialize(data));
      this.#writer.check(line);
    } catch (err) {
      this.#traffic?.requestEnded(0, err);
      return Promise.reject(err);
    }
    this.#requestSeq++;
    return this.#requests.add(id, timeoutMs, signal, () => this.#writer.write(line));
  }

  /** Round-trip time in ms. */
  ping(timeoutMs: number): Promise<number> {
    const id = `p${++this.#pingSeq}`;
    const line = encodePing(id);
    try {
      this.#assertReady();
      this.#writer.check(line);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#pings.add(id, timeoutMs, undefined, () => this.#writer.write(line)) as Promise<number>;
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
    this.#pings.failAll(() => new ChannelDisconnectedError(reason));
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
      if (!this.#onFrame(line)) this.#budget?.spend(line.length + 1);
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
      this.#badFrame(
        "FRAME_TOO_LARGE",
        `The frame is ${bytes} bytes; the limit is ${this.#limits.maxFrameBytes}.`,
        bytes,
      );
    }
  }

  #onHello(line: string): void {
    let value: unknown;
    try {
      // A hello too deep to pass on (its meta reaches clients) is no hello.
      value = jsonTextTooDeep(line, MAX_FRAME_DEPTH) ? undefined : JSON.parse(line);
    } catch {
      value = undefined;
    }
    const check = checkHello(value);
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

  /** Handles one frame of a ready connection; true when it answered berth (a response or a pong). */
  #onFrame(line: string): boolean {
    if (jsonTextTooDeep(line, MAX_FRAME_DEPTH)) {
      this.#onTooDeep(line);
      return false;
    }
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(line);
    } catch {
      this.#badFrame("BAD_FRAME", "The frame is not valid JSON.", line.length);
      return false;
    }
    if (typeof frame !== "object" || frame === null || typeof frame.type !== "string") {
      this.#badFrame("BAD_FRAME", "A frame must be a JSON object with a string type.", line.length);
      return false;
    }
    switch (frame.type) {
      case "response":
        this.#onResponse(frame, line.length);
        return true;
      case "message":
        this.#hooks.onMessage(frame.data === undefined ? null : frame.data, Date.now());
        return false;
      case "ping":
        if (typeof frame.id !== "string")
          this.#badFrame("BAD_FRAME", "ping.id must be a string.", line.length);
        else this.#writer.writeIfRoom(encodePong(frame.id));
        return false;
      case "pong":
        // Only a pong berth was waiting for is an answer: any other is sent unasked, and charged.
        return typeof frame.id === "string" && this.#onPong(frame.id);
      case "hello":
        this.#badFrame("BAD_FRAME", "hello was already received on this connection.", line.length);
        return false;
      default:
        this.#badFrame(
          "UNKNOWN_TYPE",
          "A workload may send hello, message, response, ping or pong.",
          line.length,
          {
            type: frame.type.slice(0, 32),
          },
        );
        return false;
    }
  }

  /**
   * A frame nested deeper than any client may receive: dropped before a byte
   * of it goes on. A response among them still ends its request at once (as
   * the workload's error) rather than leaving the caller to its timeout: the
   * parse that finds its id is safe, since V8's JSON.parse does not recurse.
   */
  #onTooDeep(line: string): void {
    const message = `A frame's data may nest at most ${MAX_JSON_DEPTH} levels deep.`;
    let id: unknown;
    try {
      const frame = JSON.parse(line) as { type?: unknown; id?: unknown };
      if (frame.type === "response") id = frame.id;
    } catch {
      // Not JSON either: a bad frame all the same.
    }
    if (typeof id === "string") {
      this.#requests.fail(
        id,
        new WorkloadError({ message: `berth refused the answer: ${message}`, code: "BAD_FRAME" }),
      );
      this.#badFrame("BAD_FRAME", message, line.length, { id });
    } else {
      this.#badFrame("BAD_FRAME", message, line.length);
    }
  }

  #onResponse(frame: Record<string, unknown>, bytes: number): void {
    const id = frame.id;
    if (typeof id !== "string") {
      this.#badFrame("BAD_FRAME", "response.id must be a string.", bytes);
      return;
    }
    const error = frame.error as { message?: unknown; code?: unknown } | null | undefined;
    let settled: boolean;
    if (error === undefined || error === null) {
      settled = this.#requests.resolve(id, frame.data === undefined ? null : frame.data);
    } else {
      const message =
        typeof error.message === "string" ? error.message : "The workload sent an error without a message.";
      const code = typeof error.code === "string" ? error.code : undefined;
      settled = this.#requests.fail(
        id,
        new WorkloadError(code === undefined ? { message } : { message, code }),
      );
    }
    if (settled) return;
    if (this.#wasIssued(id)) {
      // The request timed out or was aborted before the answer came: the workload did nothing wrong.
      const containerId = this.#containerId;
      this.#repeated.debug(
        `${containerId}:late_response`,
        { containerId },
        { requestId: id },
        "dropped late response",
      );
    } else {
      this.#badFrame("UNKNOWN_REQUEST", "No request with this id is waiting for an answer.", bytes, { id });
    }
  }

  #wasIssued(id: string): boolean {
    const n = Number(id);
    return Number.isSafeInteger(n) && n >= 1 && n <= this.#requestSeq && String(n) === id;
  }

  #sendHeartbeat(): void {
    this.#heartbeatId = `h${++this.#pingSeq}`;
    this.#heartbeatSentAt = performance.now();
    this.#writer.writeIfRoom(encodePing(this.#heartbeatId));
  }

  /** True when the pong answered a ping in flight. */
  #onPong(id: string): boolean {
    if (id === this.#heartbeatId) {
      this.#rttMs = performance.now() - this.#heartbeatSentAt;
      this.#heartbeatId = "";
      return true;
    }
    // An unknown pong is an answer to a ping that timed out: harmless.
    const rtt = this.#pings.resolveWithRtt(id);
    if (rtt === undefined) return false;
    this.#rttMs = rtt;
    return true;
  }

  /** Counts a bad frame, tells the peer (within reason), and cuts off a peer that keeps doing it. */
  #badFrame(
    code: ProtocolErrorCode,
    message: string,
    bytes: number,
    about: { id?: string; type?: string } = {},
  ): void {
    this.#traffic?.frameRefused(code);
    const tooMany = this.#badFrames.record(Date.now());
    const badFrames = this.#badFrames.total;
    // Sizes and kinds only: the frame itself may hold application data or secrets.
    const containerId = this.#containerId;
    this.#repeated.warn(
      `${containerId}:bad_frame`,
      { containerId },
      { code, bytes, badFrames, type: about.type },
      "dropped bad frame",
    );
    if (tooMany) {
      const { badFrameLimit, badFrameWindowMs } = this.#limits;
      this.close("too_many_bad_frames", {
        code: "TOO_MANY_BAD_FRAMES",
        message: `More than ${badFrameLimit} bad frames within ${badFrameWindowMs} ms.`,
      });
      return;
    }
    const frame: { type: "error"; code: ProtocolErrorCode; message: string; id?: string } = {
      type: "error",
      code,
      message,
    };
    if (about.id !== undefined) frame.id = about.id;
    this.#writer.writeIfRoom(encodeFrame(frame));
  }
}
