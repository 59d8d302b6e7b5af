import type { WebSocket } from "ws";
import type { Call } from "../agent-link/agent-link-contract.ts";
import { LaneFrameError, readAgentFrame, type ServerLaneFrame } from "../agent-link/channel-lane.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { CallLane } from "./link-calls.ts";

/**
 * How often the server pings a lane, and drops one that did not answer the last ping (as Socket.IO's
 * heartbeat does for the link, whose pings would not show a lane whose flow a NAT or firewall dropped).
 */
export const LANE_PING_MS = 25_000;

/** Where what an agent sends on its lane goes (its AgentConnection), and who is told the lane closed. */
export interface ChannelLaneHandlers {
  answer: (lane: ChannelLane, id: string, raw: unknown) => void;
  push: (raw: unknown) => void;
  closed: (lane: ChannelLane, reason: string) => void;
}

/**
 * The API server's end of one agent's channel lane (agent-link/channel-lane.ts):
 * channel calls and cancels out, answers and channel pushes in. What a frame
 * carries is read by the agent's connection exactly as on the link (answers
 * by the call's own reader, pushes by PushSchema); a frame that is not one of
 * the lane's, or a binary one, means a broken agent and closes the lane —
 * calls then go on the link again. `closed` is told once, however it ends.
 */
export class ChannelLane implements CallLane {
  readonly #ws: WebSocket;
  readonly #handlers: ChannelLaneHandlers;
  readonly #log: SystemLogger;
  readonly #maxBufferedBytes: number;
  readonly #ping: NodeJS.Timeout;
  #ponged = true;
  #ended = false;

  /**
   * `maxBufferedBytes`: what may wait unsent to a peer that does not read; past it the lane is closed
   * (its calls then go on the link, whose own heartbeat ends a peer that reads nothing).
   */
  constructor(
    ws: WebSocket,
    handlers: ChannelLaneHandlers,
    log: SystemLogger,
    options: { maxBufferedBytes: number; pingMs?: number },
  ) {
    this.#ws = ws;
    this.#handlers = handlers;
    this.#log = log;
    this.#maxBufferedBytes = options.maxBufferedBytes;
    ws.on("message", this.#onMessage);
    ws.on("close", (code: number) => this.#end(`the channel lane closed (${code})`));
    // An error is followed by `close`; heard here so that it is not thrown.
    ws.on("error", (err: Error) => this.#log.debug({ err }, "channel lane error"));
    ws.on("pong", () => {
      this.#ponged = true;
    });
    this.#ping = setInterval(() => {
      if (!this.#ponged) return this.#drop("it did not answer a ping", "the channel lane stopped answering");
      this.#ponged = false;
      ws.ping();
    }, options.pingMs ?? LANE_PING_MS);
    this.#ping.unref();
  }

  call(envelope: Call): void {
    this.#send(["c", envelope]);
  }

  cancel(id: string): void {
    this.#send(["x", id]);
  }

  /** Closes the lane (the link ended, or the server is closing). Safe to call twice. */
  close(): void {
    this.#ws.close(1000);
    this.#end("the channel lane was closed by this server");
  }

  #send(frame: ServerLaneFrame): void {
    // A lane that is closing has its calls failed by `closed`; nothing more is written to it.
    if (this.#ended) return;
    if (this.#ws.bufferedAmount > this.#maxBufferedBytes) {
      this.#drop("it read nothing of what waits for it", "the channel lane's peer does not read");
      return;
    }
    this.#ws.send(JSON.stringify(frame));
  }

  /** Ends the lane from this side, for a reason the log says. */
  #drop(why: string, reason: string): void {
    this.#log.warn({ why }, "closed a node agent's channel lane");
    this.#ws.terminate();
    this.#end(reason);
  }

  readonly #onMessage = (data: Buffer, isBinary: boolean) => {
    if (this.#ended) return;
    try {
      if (isBinary) throw new LaneFrameError("a binary frame");
      const frame = readAgentFrame(data.toString());
      if (frame[0] === "a") this.#handlers.answer(this, frame[1], frame[2]);
      else this.#handlers.push(frame[1]);
    } catch (err) {
      if (!(err instanceof LaneFrameError)) throw err;
      this.#log.warn({ err: err.message }, "closed a node agent's channel lane: a malformed frame");
      this.#ws.close(1008);
      this.#end("the channel lane carried a malformed frame");
    }
  };

  #end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#ping);
    this.#handlers.closed(this, reason);
  }
}
