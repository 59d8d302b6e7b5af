"use strict";
/**
 * @berth/workload — the workload's side of berth's channel: one Unix socket
 * (path in BERTH_SOCKET), newline-delimited JSON frames, a hello/welcome
 * handshake, messages both ways, requests from berth answered by one handler,
 * pings answered automatically, and reconnection with back-off when berth goes
 * away. The wire protocol is in berth's docs/protocol.md.
 *
 * Hand-written JavaScript with no dependencies and no build step: Node.js does
 * not strip types inside node_modules, and the file is copied as it is into
 * the runtime image. Types live in index.d.cts beside it; keep them in step.
 */
const net = require("node:net");
const { EventEmitter } = require("node:events");

const PROTOCOL_VERSION = 1;
/** Used until berth's welcome names its own limit. */
const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;
/** Error codes after which connecting again cannot help. */
const FATAL_CODES = new Set(["PROTOCOL_MISMATCH", "REPLACED"]);
/** How long close() waits for berth to see the end of the connection. */
const CLOSE_LINGER_MS = 1000;

/** Every error this module makes: `code` is stable, `message` is for people. */
class BerthWorkloadError extends Error {
  constructor(message, code) {
    super(message);
    this.name = "BerthWorkloadError";
    this.code = code;
  }
}

/**
 * Splits bytes into lines of at most `max` bytes. An over-size line is dropped
 * as it arrives (never buffered whole) up to its newline.
 */
class LineDecoder {
  constructor(max, onLine) {
    this.max = max;
    this.onLine = onLine;
    this.parts = [];
    this.partBytes = 0;
    this.discarding = false;
  }

  push(chunk) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        this.keep(chunk, start);
        return;
      }
      if (this.discarding) {
        this.discarding = false;
      } else if (this.partBytes > 0) {
        const total = this.partBytes + (nl - start);
        const parts = this.parts;
        this.parts = [];
        this.partBytes = 0;
        if (total <= this.max) {
          parts.push(chunk.subarray(start, nl));
          this.onLine(Buffer.concat(parts, total).toString("utf8"));
        }
      } else if (nl > start && nl - start <= this.max) {
        this.onLine(chunk.toString("utf8", start, nl));
      }
      start = nl + 1;
    }
  }

  keep(chunk, start) {
    if (this.discarding) return;
    const bytes = chunk.length - start;
    if (this.partBytes + bytes > this.max) {
      this.discarding = true;
      this.parts = [];
      this.partBytes = 0;
      return;
    }
    this.parts.push(Buffer.from(chunk.subarray(start)));
    this.partBytes += bytes;
  }
}

function describeError(err) {
  const error = { message: "The request handler failed." };
  if (err instanceof Error) error.message = err.message;
  else if (typeof err === "string") error.message = err;
  if (err !== null && typeof err === "object" && typeof err.code === "string") error.code = err.code;
  return error;
}

function isThenable(value) {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof value.then === "function"
  );
}

/**
 * A connection to berth that keeps itself up. Create it with `connect()`.
 *
 * Events: 'welcome' (info) after every handshake; 'disconnect' (error) when a
 * welcomed connection ends; 'protocolError' (error) when berth reports a
 * problem with a frame; 'close' (error?) once the client has stopped for good.
 */
class WorkloadClient extends EventEmitter {
  #path;
  #meta;
  #reconnect;
  #onError;
  /** idle → connecting → handshaking → ready → (waiting → connecting …) → closed */
  #state = "idle";
  #conn = null;
  #attempt = 0;
  #timer = null;
  #welcome = null;
  #ready;
  #settleReady;
  #messageHandlers = new Set();
  #requestHandler = null;
  #pings = new Map();
  #pingSeq = 0;
  #closed = null;

  constructor(options = {}) {
    super();
    const path = options.socketPath ?? process.env.BERTH_SOCKET;
    if (!path)
      throw new BerthWorkloadError(
        "BERTH_SOCKET is not set: is this process running under berth?",
        "NO_SOCKET",
      );
    this.#path = path;
    this.#meta = options.meta;
    const r = options.reconnect ?? true;
    this.#reconnect =
      r === false
        ? null
        : {
            initialDelayMs: 100,
            maxDelayMs: 5000,
            factor: 2,
            maxAttempts: Number.POSITIVE_INFINITY,
            ...(typeof r === "object" ? r : {}),
          };
    this.#onError = options.onError ?? ((err) => console.error("[@berth/workload]", err));
    this.#ready = new Promise((resolve, reject) => {
      this.#settleReady = { resolve, reject };
    });
    // Nobody has to await `ready`: an unobserved rejection must not crash the workload.
    this.#ready.catch(() => {});
  }

  /** Resolves with berth's first welcome; rejects if the client stops before one. */
  get ready() {
    return this.#ready;
  }

  /** True while a welcomed connection is up. */
  get connected() {
    return this.#state === "ready";
  }

  /** The latest welcome from berth, or null before the first. */
  get welcome() {
    return this.#welcome;
  }

  /** Calls `fn(data)` for every message from berth; returns a function that stops it. */
  onMessage(fn) {
    this.#messageHandlers.add(fn);
    return () => this.#messageHandlers.delete(fn);
  }

  /**
   * Answers berth's requests with `handler(data)` (its value or the value of
   * its promise). A thrown error or a rejection becomes an error response with
   * the error's message and its `code` when it has a string one. One handler:
   * a second call replaces the first.
   */
  onRequest(handler) {
    this.#requestHandler = handler;
    return this;
  }

  /**
   * Sends a message to berth. Returns false (and drops it) when not connected;
   * throws BerthWorkloadError for data with no JSON form or over the frame limit.
   */
  send(data) {
    const conn = this.#conn;
    if (conn === null || this.#state !== "ready") return false;
    const line = `{"type":"message","data":${this.#serialize(data)}}\n`;
    this.#checkSize(line);
    this.#write(conn, line);
    return true;
  }

  /** Measures the round trip to berth in ms. */
  ping(timeoutMs = 5000) {
    const conn = this.#conn;
    if (conn === null || this.#state !== "ready") {
      return Promise.reject(new BerthWorkloadError("Not connected to berth.", "NOT_CONNECTED"));
    }
    const id = `w${++this.#pingSeq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(new BerthWorkloadError(`No pong within ${timeoutMs} ms.`, "TIMEOUT"));
      }, timeoutMs);
      this.#pings.set(id, { resolve, reject, timer, sentAt: performance.now() });
      this.#write(conn, `{"type":"ping","id":"${id}"}\n`);
    });
  }

  /** Stops for good: no reconnect, the socket ended. Idempotent; resolves once the socket is closed. */
  close() {
    if (this.#closed !== null) return this.#closed;
    this.#closed = this.#stop(null);
    return this.#closed;
  }

  [Symbol.asyncDispose]() {
    return this.close();
  }

  /** @internal connect() calls it once. */
  start() {
    if (this.#state === "idle") this.#connect();
    return this;
  }

  #connect() {
    this.#state = "connecting";
    const socket = net.createConnection(this.#path);
    const conn = { socket, corked: false, fatal: null, decoder: null };
    conn.decoder = new LineDecoder(DEFAULT_MAX_FRAME_BYTES, (line) => this.#onLine(conn, line));
    this.#conn = conn;
    socket.on("connect", () => {
      if (this.#conn !== conn) return;
      this.#state = "handshaking";
      const hello = { type: "hello", protocol: PROTOCOL_VERSION };
      if (this.#meta !== undefined) hello.meta = this.#meta;
      socket.write(`${JSON.stringify(hello)}\n`);
    });
    socket.on("data", (chunk) => conn.decoder.push(chunk));
    // A refused or broken connection ends in 'close', where the next attempt is planned.
    socket.on("error", () => {});
    socket.on("close", () => this.#onClose(conn));
  }

  #onClose(conn) {
    if (this.#conn !== conn) return;
    this.#conn = null;
    const wasReady = this.#state === "ready";
    const error = conn.fatal ?? new BerthWorkloadError("The connection to berth was lost.", "DISCONNECTED");
    this.#failPings(error);
    if (wasReady) this.emit("disconnect", error);
    if (this.#state === "closed") return;
    if (conn.fatal !== null) {
      this.#closed = this.#stop(conn.fatal);
      return;
    }
    const r = this.#reconnect;
    if (r === null || this.#attempt >= r.maxAttempts) {
      this.#closed = this.#stop(new BerthWorkloadError("Could not reach berth.", "DISCONNECTED"));
      return;
    }
    // Exponential back-off with "equal jitter": at least half the step, so attempts still spread out and slow down.
    const step = Math.min(r.maxDelayMs, r.initialDelayMs * r.factor ** this.#attempt);
    this.#attempt++;
    this.#state = "waiting";
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        if (this.#state === "waiting") this.#connect();
      },
      step / 2 + Math.random() * (step / 2),
    );
  }

  #stop(error) {
    this.#state = "closed";
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#settleReady.reject(
      error ?? new BerthWorkloadError("The client was closed before berth welcomed it.", "CLOSED"),
    );
    const closedError = error ?? new BerthWorkloadError("The client was closed.", "CLOSED");
    this.#failPings(closedError);
    const conn = this.#conn;
    this.#conn = null;
    return new Promise((resolve) => {
      if (conn === null || conn.socket.destroyed) return resolve();
      const linger = setTimeout(() => conn.socket.destroy(), CLOSE_LINGER_MS);
      conn.socket.once("close", () => {
        clearTimeout(linger);
        resolve();
      });
      conn.socket.end();
    }).then(() => {
      this.emit("close", error ?? undefined);
    });
  }

  #onLine(conn, line) {
    if (this.#conn !== conn) return;
    let frame;
    try {
      frame = JSON.parse(line);
    } catch {
      return; // berth only sends JSON; nothing useful to do with a broken line
    }
    if (frame === null || typeof frame !== "object") return;
    switch (frame.type) {
      case "request":
        if (typeof frame.id === "string") this.#onRequest(conn, frame.id, frame.data);
        return;
      case "message":
        this.#onMessage(frame.data);
        return;
      case "ping":
        if (typeof frame.id === "string")
          this.#write(conn, `{"type":"pong","id":${JSON.stringify(frame.id)}}\n`);
        return;
      case "pong":
        this.#onPong(frame.id);
        return;
      case "welcome":
        this.#onWelcome(conn, frame);
        return;
      case "error":
        this.#onErrorFrame(conn, frame);
        return;
      default:
      // A newer berth may send frame types this SDK does not know: ignoring them keeps both compatible.
    }
  }

  #onWelcome(conn, frame) {
    const info = {
      id: String(frame.id),
      protocol: Number(frame.protocol),
      maxFrameBytes: Number(frame.maxFrameBytes) || DEFAULT_MAX_FRAME_BYTES,
    };
    conn.decoder.max = info.maxFrameBytes;
    this.#welcome = info;
    this.#state = "ready";
    this.#attempt = 0;
    this.#settleReady.resolve(info);
    this.emit("welcome", info);
  }

  #onErrorFrame(conn, frame) {
    const error = new BerthWorkloadError(
      String(frame.message ?? "berth reported an error."),
      String(frame.code ?? "ERROR"),
    );
    if (FATAL_CODES.has(error.code)) conn.fatal = error;
    if (this.listenerCount("protocolError") > 0) this.emit("protocolError", error);
    else this.#onError(error);
  }

  #onMessage(data) {
    for (const fn of this.#messageHandlers) {
      try {
        const result = fn(data);
        if (isThenable(result)) result.then(undefined, this.#onError);
      } catch (err) {
        this.#onError(err);
      }
    }
  }

  #onRequest(conn, id, data) {
    const handler = this.#requestHandler;
    if (handler === null) {
      this.#respondError(
        conn,
        id,
        new BerthWorkloadError("This workload answers no requests.", "NO_HANDLER"),
      );
      return;
    }
    let result;
    try {
      result = handler(data);
    } catch (err) {
      this.#respondError(conn, id, err);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#respond(conn, id, value),
        (err) => this.#respondError(conn, id, err),
      );
    } else {
      this.#respond(conn, id, result);
    }
  }

  #respond(conn, id, value) {
    // The connection that asked is gone: berth has already failed the request.
    if (this.#conn !== conn) return;
    let line;
    try {
      line = `{"type":"response","id":${JSON.stringify(id)},"data":${this.#serialize(value)}}\n`;
      this.#checkSize(line);
    } catch (err) {
      this.#respondError(conn, id, err);
      return;
    }
    this.#write(conn, line);
  }

  #respondError(conn, id, err) {
    if (this.#conn !== conn) return;
    const error = describeError(err);
    // Keep the error itself within any sane frame limit.
    if (error.message.length > 4096) error.message = `${error.message.slice(0, 4096)}…`;
    if (error.code !== undefined && error.code.length > 256) error.code = error.code.slice(0, 256);
    this.#write(conn, `${JSON.stringify({ type: "response", id, error })}\n`);
  }

  #onPong(id) {
    const ping = this.#pings.get(id);
    if (ping === undefined) return;
    this.#pings.delete(id);
    clearTimeout(ping.timer);
    ping.resolve(performance.now() - ping.sentAt);
  }

  #failPings(error) {
    for (const ping of this.#pings.values()) {
      clearTimeout(ping.timer);
      ping.reject(error);
    }
    this.#pings.clear();
  }

  #serialize(data) {
    let json;
    try {
      json = JSON.stringify(data);
    } catch (err) {
      throw new BerthWorkloadError(`The data cannot be sent as JSON: ${err.message}`, "UNSERIALIZABLE");
    }
    // undefined (or a function) has no JSON form; it travels as null.
    return json ?? "null";
  }

  #checkSize(line) {
    const max = this.#welcome?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    // A UTF-16 unit is at most 3 UTF-8 bytes: short lines need no byte count.
    if ((line.length - 1) * 3 <= max) return;
    const bytes = Buffer.byteLength(line) - 1;
    if (bytes > max)
      throw new BerthWorkloadError(
        `The frame is ${bytes} bytes; berth's limit is ${max}.`,
        "FRAME_TOO_LARGE",
      );
  }

  /** Frames written in one tick leave together in one system call. */
  #write(conn, line) {
    if (!conn.corked) {
      conn.corked = true;
      conn.socket.cork();
      process.nextTick(() => {
        conn.corked = false;
        conn.socket.uncork();
      });
    }
    // A long string goes to a socket through a slow path in Node.js (UTF-8
    // length first, then a copy into a fresh backing store): Buffer.from() is
    // several times cheaper for large frames.
    conn.socket.write(line.length >= 16384 ? Buffer.from(line) : line);
  }
}

/**
 * Connects to berth (the socket in BERTH_SOCKET unless `socketPath` is given)
 * and keeps connecting again, with back-off, whenever berth goes away.
 *
 * @example
 *   const { connect } = require("@berth/workload");
 *   const berth = connect({ meta: { app: "echo" } });
 *   berth.onRequest(async (data) => ({ echo: data }));
 *   berth.onMessage((data) => console.log("from berth", data));
 *   await berth.ready;
 *   berth.send({ hello: "from the workload" });
 */
function connect(options) {
  return new WorkloadClient(options).start();
}

module.exports = { connect, WorkloadClient, BerthWorkloadError, PROTOCOL_VERSION };
