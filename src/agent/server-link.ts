import { io, type Socket } from "socket.io-client";
import {
  AGENTS_NAMESPACE,
  type AgentIdentity,
  type AgentToApiEvents,
  type Goodbye,
  GoodbyeSchema,
  LeaseSchema,
  type Push,
} from "../agent-link/agent-link-contract.ts";
import { LaneOfferSchema } from "../agent-link/channel-lane.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { RetryPolicy } from "../util/retry-policy.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import { ChannelCallServer } from "./channel-call-server.ts";
import { ChannelLaneClient } from "./channel-lane-client.ts";
import { type AgentChannels, channelSnapshot } from "./channel-pushes.ts";
import { EngineCallServer } from "./engine-call-server.ts";
import type { EngineFence } from "./engine-fence.ts";
import { FilesCallServer } from "./files-call-server.ts";
import type { GenerationFence } from "./generation-fence.ts";
import { NetworkCallServer } from "./network-call-server.ts";
import type { NodeNetworks } from "./node-networks.ts";
import type { NodeUsage } from "./node-usage.ts";
import { UsageCallServer } from "./usage-call-server.ts";

/** What the agent listens for: untyped until EngineCallServer has checked it. */
interface Inbound {
  call: (raw: unknown, ack: unknown) => void;
  cancel: (raw: unknown) => void;
  goodbye: (raw: unknown) => void;
  lease: (raw: unknown) => void;
  lane: (raw: unknown) => void;
}

type LinkSocket = Socket<Inbound, AgentToApiEvents>;

export interface ServerLinkOptions {
  /** The API server's base URL (http or https); the agent connects to its `/agents` namespace. */
  url: string;
  /** This node's credential (agent-credential.ts): good for its own node id only. */
  credential: string;
  /** PEM of the only CAs trusted for the server's certificate (BERTH_AGENT_CA_FILE); undefined: Node's own. */
  ca?: string | undefined;
  identity: AgentIdentity;
  docker: DockerClient;
  /** This node's workload files (AgentWorkloadFiles); without them `files` calls are refused. */
  files?: WorkloadFiles;
  /** This node's workload channels (absent: the agent serves its engine only, and refuses channel calls). */
  channels?: AgentChannels;
  /** This node's workloads' resource usage (absent: `usage` calls are refused). */
  usage?: NodeUsage;
  /** The newest placement generation known per workload, shared by every server's link: stamped calls are checked. */
  generations?: GenerationFence;
  /** What a create or a start passes first (the lease, the copy's generation). */
  engineFence?: EngineFence;
  /** The server renewed this agent's lease for `ttlMs` (its store answers). */
  onLease?: (ttlMs: number) => void;
  /** This node's owner networks and their egress filter (absent: `network` calls are refused). */
  networks?: NodeNetworks;
  log: SystemLogger;
  /** First and longest wait between tries to connect (default 0.5 s and 15 s, with jitter). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** A refused handshake as socket.io-client reports it: the server's middleware error with berth's `data`. */
interface ConnectError extends Error {
  data?: { code?: unknown };
}

/**
 * The agent's connection to one API server: it dials out (the node needs no
 * inbound port), says which node it serves and proves it with that node's
 * credential, then serves that server's engine calls (EngineCallServer, one per
 * connection) until the connection ends — and dials again, with backoff and
 * jitter, for as long as the agent runs. A server that refused it (a wrong
 * credential, say) is tried again at the longest delay; Socket.IO's client would
 * not try again at all, and an agent must get back in without a restart
 * once its credential, or the servers' master key, is put right. With a CA pinned, only a server
 * certificate that CA signed is accepted (and never an unverified one).
 */
export class ServerLink {
  readonly #o: ServerLinkOptions;
  readonly #log: SystemLogger;
  readonly #socket: LinkSocket;
  readonly #backoff: RetryPolicy;
  readonly #maxDelayMs: number;
  #server: EngineCallServer | undefined;
  #channelServer: ChannelCallServer | undefined;
  #networkServer: NetworkCallServer | undefined;
  /** The channel lane to this server (channel-lane.ts), once it offered one, for this connection. */
  #lane: ChannelLaneClient | undefined;
  #refusals = 0;
  #retry: NodeJS.Timeout | undefined;
  /** Why the server said it is ending the connection, if it said. */
  #goodbye: Goodbye["reason"] | undefined;
  #closed = false;

  constructor(options: ServerLinkOptions) {
    this.#o = options;
    this.#log = options.log.child({ server: options.url });
    const minDelayMs = options.minDelayMs ?? 500;
    const maxDelayMs = options.maxDelayMs ?? 15_000;
    this.#maxDelayMs = maxDelayMs;
    this.#backoff = new RetryPolicy({ isRetryable: () => true, baseDelayMs: minDelayMs, maxDelayMs });
    const { credential, identity } = options;
    this.#socket = io(new URL(AGENTS_NAMESPACE, options.url).href, {
      autoConnect: false,
      transports: ["websocket"],
      auth: { credential, ...identity },
      // Handed to the websocket's TLS connection: `ca` replaces Node's trust store, it does not add to it.
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      rejectUnauthorized: true,
      reconnectionDelay: minDelayMs,
      reconnectionDelayMax: maxDelayMs,
      randomizationFactor: 0.5,
    });
    this.#socket.on("connect", this.#onConnect);
    this.#socket.on("disconnect", this.#onDisconnect);
    this.#socket.on("connect_error", this.#onConnectError);
    this.#socket.on("call", (raw, ack) => {
      const kind = (raw as { kind?: unknown } | null)?.kind;
      if (kind === "channel" && this.#channelServer) void this.#channelServer.call(raw, ack);
      else if (kind === "network" && this.#networkServer) void this.#networkServer.call(raw, ack);
      else void this.#server?.call(raw, ack); // it refuses a kind it does not serve
    });
    this.#socket.on("cancel", (raw) => {
      this.#server?.cancel(raw);
      this.#channelServer?.cancel(raw);
    });
    this.#socket.on("lease", (raw) => {
      const lease = LeaseSchema.safeParse(raw);
      if (lease.success) this.#o.onLease?.(lease.data.ttlMs);
      else this.#log.warn("dropped a malformed lease from the API server");
    });
    this.#socket.on("lane", (raw) => this.#openLane(raw));
    this.#socket.on("goodbye", (raw) => {
      this.#goodbye = GoodbyeSchema.safeParse(raw).data?.reason;
    });
  }

  /** Whether the server has this agent connected now. */
  get connected(): boolean {
    return this.#socket.connected;
  }

  /**
   * Sends a push to this server if it is connected now; dropped otherwise (socket.io-client would
   * buffer it and send it late on the next connection, which begins with a fresh snapshot anyway).
   */
  push(push: Push): void {
    if (this.#lane?.open) this.#lane.push(push);
    else if (this.#socket.connected) this.#socket.emit("push", push);
  }

  /** Whether a channel lane to this server is open now. */
  get laneOpen(): boolean {
    return this.#lane?.open === true;
  }

  /** Opens the channel lane the server offered (an agent without channels, or a malformed offer: none). */
  #openLane(raw: unknown): void {
    const offer = LaneOfferSchema.safeParse(raw);
    const channels = this.#o.channels;
    const calls = this.#channelServer;
    if (!offer.success || !channels || !calls) {
      if (!offer.success) this.#log.warn("dropped a malformed channel lane offer from the API server");
      return;
    }
    this.#lane?.close();
    const lane = new ChannelLaneClient({
      url: this.#o.url,
      offer: offer.data,
      ca: this.#o.ca,
      calls,
      log: this.#log,
      // The link's last channel push says the rest come on the lane (the server holds the lane's until it
      // reads that); first on the lane, as first on the link, the channels as they stand.
      onOpen: () => {
        this.#socket.emit("push", { kind: "channel-pushes-on-lane" });
        lane.push(channelSnapshot(channels));
      },
    });
    this.#lane = lane;
  }

  start(): void {
    if (!this.#closed) this.#socket.connect();
  }

  readonly #onConnect = () => {
    this.#refusals = 0;
    this.#lane?.close();
    this.#lane = undefined;
    this.#server?.close();
    const { files, channels, usage, generations } = this.#o;
    this.#server = new EngineCallServer(
      this.#o.docker,
      (push) => this.#socket.emit("push", push),
      this.#log,
      files && new FilesCallServer(files, this.#log, generations),
      usage && new UsageCallServer(usage, this.#log),
      this.#o.engineFence,
    );
    this.#networkServer?.close();
    this.#networkServer = this.#o.networks && new NetworkCallServer(this.#o.networks, this.#log);
    this.#channelServer?.close();
    if (channels) {
      this.#channelServer = new ChannelCallServer(channels, this.#log, generations);
      // First on every connection: the server's `status(id)` of this node's channels is right from here on.
      this.#socket.emit("push", channelSnapshot(channels));
    }
    this.#log.info({ node: this.#o.identity.nodeId }, "connected to the API server");
  };

  readonly #onDisconnect = (reason: string) => {
    this.#lane?.close();
    this.#lane = undefined;
    this.#server?.close();
    this.#server = undefined;
    this.#channelServer?.close();
    this.#channelServer = undefined;
    this.#networkServer?.close();
    this.#networkServer = undefined;
    if (!this.#closed) this.#log.warn({ reason }, "lost the API server; connecting again");
    const goodbye = this.#goodbye;
    this.#goodbye = undefined;
    // Ended by the server: Socket.IO's client does not reconnect by itself then. Replaced by another
    // agent process of this node: back at the longest delay, so that two such processes (a
    // misconfiguration, or an old one still alive) take turns slowly and visibly in the log.
    if (reason !== "io server disconnect") return;
    if (goodbye === "replaced") {
      this.#log.error(
        { node: this.#o.identity.nodeId },
        "another agent process of this node connected to the API server in this one's place",
      );
      this.#later(this.#longDelay());
      return;
    }
    if (goodbye === "node_down")
      this.#log.warn(
        { node: this.#o.identity.nodeId },
        "the API server ended this link: Swarm calls this node down (is its Swarm link cut while this one is not?)",
      );
    this.#later(this.#backoff.delayFor(1));
  };

  readonly #onConnectError = (err: ConnectError) => {
    if (this.#closed) return;
    // Refused by the server's handshake check: Socket.IO's client gives up; this link does not.
    if (err.data?.code !== undefined && !this.#socket.active) {
      this.#refusals++;
      this.#log.error(
        { code: err.data.code, refusals: this.#refusals },
        "the API server refused this agent; check that its credential is this node's, derived from the servers' BERTH_AGENT_TOKEN",
      );
      // A refusal is not fixed within seconds.
      this.#later(this.#longDelay());
      return;
    }
    this.#log.warn({ err: err.message }, "could not reach the API server; trying again");
    // A refusal without berth's code (a server with no /agents namespace yet: "Invalid namespace") also
    // leaves Socket.IO's client inactive: without this, "trying again" would be the last thing it did.
    if (!this.#socket.active) this.#later(this.#backoff.delayFor(1));
  };

  /** Between half the longest delay and all of it. */
  #longDelay(): number {
    return this.#maxDelayMs * (0.5 + Math.random() / 2);
  }

  #later(delayMs: number): void {
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.start(), delayMs);
  }

  /** Disconnects and stops dialling; waits in flight are aborted, subscriptions closed. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#socket.disconnect();
    this.#lane?.close();
    this.#lane = undefined;
    this.#server?.close();
    this.#server = undefined;
    this.#channelServer?.close();
    this.#channelServer = undefined;
    this.#networkServer?.close();
    this.#networkServer = undefined;
  }
}
