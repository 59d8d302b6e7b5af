import { randomBytes } from "node:crypto";
import type { Server as HttpServer, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { LANE_PATH, LANE_TOKEN_TTL_MS, type LaneOffer } from "../agent-link/channel-lane.ts";
import { RepeatedLog } from "../logging/repeated-log.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { AgentConnection } from "../node-agents/agent-connection.ts";

/** How long after a lane closed under a live link the agent is offered another (the first time). */
const REOFFER_DELAY_MS = 1_000;
const MAX_REOFFER_DELAY_MS = 60_000;

interface Offer {
  agent: AgentConnection;
  expiresAt: number;
}

/**
 * Offers each node agent let in on the `/agents` namespace a channel lane
 * (agent-link/channel-lane.ts), and accepts the WebSocket upgrades that open
 * them, on the API server's own HTTP server.
 *
 * An upgrade to LANE_PATH must carry a token this server offered, within
 * LANE_TOKEN_TTL_MS, to a connection that is still open; each token opens
 * one lane, for that connection only, and is gone once used or refused. So
 * the lane is exactly as trusted as the link that was offered it — the node's
 * credential, checked there — and nothing but an offer opens one: a client's
 * token, an agent's credential or a guess get 401, logged once per address
 * then counted. Tokens are never logged.
 */
export class ChannelLaneAcceptor {
  readonly #http: HttpServer;
  readonly #wss: WebSocketServer;
  readonly #log: SystemLogger;
  readonly #refusals: RepeatedLog;
  readonly #offers = new Map<string, Offer>();
  readonly #now: () => number;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #maxPayloadBytes: number;
  /** Lanes re-offered so far, per connection: each re-offer waits twice as long as the one before. */
  readonly #reoffers = new WeakMap<AgentConnection, number>();
  #closed = false;

  constructor(http: HttpServer, options: { maxPayloadBytes: number; log: SystemLogger; now?: () => number }) {
    this.#http = http;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#refusals = new RepeatedLog(options.log);
    this.#maxPayloadBytes = options.maxPayloadBytes;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes,
      perMessageDeflate: false,
    });
    http.on("upgrade", this.#onUpgrade);
  }

  /** Offers `agent` a lane: the offer to send it on the link (its `lane` event). */
  offer(agent: AgentConnection): LaneOffer {
    const now = this.#now();
    for (const [token, offer] of this.#offers)
      if (offer.expiresAt <= now || offer.agent === agent) this.#offers.delete(token);
    const token = randomBytes(32).toString("base64url");
    this.#offers.set(token, { agent, expiresAt: now + LANE_TOKEN_TTL_MS });
    return { token };
  }

  /** Offers in flight (tests). */
  get offers(): number {
    return this.#offers.size;
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // URL.parse, not `new URL`: a target it cannot parse (`http://[`) must not throw in an event listener.
    if (URL.parse(req.url ?? "/", "http://berth")?.pathname !== LANE_PATH) return;
    const token = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(req.headers.authorization ?? "")?.[1];
    const offer = token === undefined ? undefined : this.#offers.get(token);
    if (token !== undefined) this.#offers.delete(token);
    if (this.#closed || !offer || offer.expiresAt <= this.#now() || offer.agent.isClosed) {
      const address = req.socket.remoteAddress ?? "unknown";
      this.#refusals.warn(
        `lane:${address}`,
        { address },
        {},
        "refused a channel lane: no offer of this server's matches",
      );
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      offer.agent.attachLane(ws, {
        // A request as large as the link takes, and as much again waiting behind it.
        maxBufferedBytes: 2 * this.#maxPayloadBytes,
        onClosed: () => this.#reoffer(offer.agent),
      });
      this.#log.debug({ node: offer.agent.nodeId }, "node agent opened its channel lane");
    });
  };

  /**
   * A lane closed under a live link: another is offered a moment later, if the link lasts — 1 s, then twice
   * as long each time (at most a minute), so that an agent whose lanes keep failing costs little.
   */
  #reoffer(agent: AgentConnection): void {
    if (this.#closed) return;
    const tries = this.#reoffers.get(agent) ?? 0;
    this.#reoffers.set(agent, tries + 1);
    const delayMs = Math.min(REOFFER_DELAY_MS * 2 ** tries, MAX_REOFFER_DELAY_MS);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed && !agent.isClosed) agent.offerLane(this.offer(agent));
    }, delayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  /** Takes no more lanes (those open close with their links). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#http.off("upgrade", this.#onUpgrade);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#offers.clear();
    this.#refusals.close();
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}
