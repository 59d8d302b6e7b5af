import { WebSocket } from "ws";
import type { CallAnswer, Push } from "../agent-link/agent-link-contract.ts";
import {
  type AgentLaneFrame,
  LANE_PATH,
  LaneFrameError,
  type LaneOffer,
  readServerFrame,
} from "../agent-link/channel-lane.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { ChannelCallServer } from "./channel-call-server.ts";

/** What an API server may send the agent in one frame: as socket.io-client's own default bound. */
const MAX_FRAME_BYTES = 100 * 1024 * 1024;

export interface ChannelLaneClientOptions {
  /** The API server's base URL, as the link's (http or https). */
  url: string;
  offer: LaneOffer;
  /** PEM of the only CAs trusted for the server's certificate, as the link's. */
  ca?: string | undefined;
  /** The link's ChannelCallServer: the lane's calls are served, and cancelled, by it. */
  calls: ChannelCallServer;
  /** The lane is open: what the agent pushes goes on it from now on (first, a snapshot). */
  onOpen: () => void;
  log: SystemLogger;
}

/**
 * The agent's end of a channel lane to one API server (agent-link/channel-lane.ts):
 * opened with the token the server offered on the link, it carries that
 * server's channel calls to the link's ChannelCallServer — which checks each
 * as it checks the link's — and their answers and the agent's channel pushes
 * back. A frame that is not the lane's closes it; so does the link's end
 * (ServerLink). Until it is open, and once it has closed, everything goes on
 * the link: the server falls back to it too.
 */
export class ChannelLaneClient {
  readonly #ws: WebSocket;
  readonly #calls: ChannelCallServer;
  readonly #log: SystemLogger;
  /** Calls that came on the lane and are not answered yet: cancelled if the lane ends first. */
  readonly #inFlight = new Set<string>();
  #ready = false;
  #closed = false;

  constructor(options: ChannelLaneClientOptions) {
    this.#calls = options.calls;
    this.#log = options.log;
    const url = new URL(LANE_PATH, options.url);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    this.#ws = new WebSocket(url, {
      headers: { authorization: `Bearer ${options.offer.token}` },
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      rejectUnauthorized: true,
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
    });
    this.#ws.on("open", () => {
      if (this.#closed) return;
      options.onOpen();
      this.#ready = true;
    });
    this.#ws.on("message", this.#onMessage);
    this.#ws.on("close", () => {
      this.#closed = true;
      // The server fails them on its side; nothing would read their answers: stop them here too.
      for (const id of this.#inFlight) this.#calls.cancel({ id });
      this.#inFlight.clear();
    });
    // A lane that cannot open or that fails is only slower: the link carries the channel's traffic.
    this.#ws.on("error", (err: Error) =>
      this.#log.warn({ err: err.message }, "the channel lane to the API server failed; using the link"),
    );
  }

  /** Whether the lane is open and told to the server (pushes go on it). */
  get open(): boolean {
    return this.#ready && !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }

  push(push: Push): void {
    this.#send(["p", push]);
  }

  /** Closes the lane. Safe to call twice. */
  close(): void {
    this.#closed = true;
    this.#ws.terminate();
  }

  #send(frame: AgentLaneFrame): void {
    if (!this.#closed && this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(frame));
  }

  readonly #onMessage = (data: Buffer, isBinary: boolean) => {
    if (this.#closed) return;
    try {
      if (isBinary) throw new LaneFrameError("a binary frame");
      const frame = readServerFrame(data.toString());
      if (frame[0] === "x") return this.#calls.cancel({ id: frame[1] });
      const id = (frame[1] as { id: string }).id;
      this.#inFlight.add(id);
      void this.#calls.call(frame[1], (answer: CallAnswer) => {
        this.#inFlight.delete(id);
        this.#send(["a", id, answer]);
      });
    } catch (err) {
      if (!(err instanceof LaneFrameError)) throw err;
      this.#log.warn({ err: err.message }, "closed the channel lane: the API server sent a malformed frame");
      this.close();
    }
  };
}
