import { EventEmitter } from "node:events";
import pg from "pg";
import type { SystemLogger } from "../logging/system-logger.ts";
import { passwordForms } from "../store/postgres/pg-database.ts";
import { asPgStorageError } from "../store/postgres/pg-errors.ts";

export interface ChangeNoticesEvents {
  /** A container's row of the kind listened to changed, told at the commit that changed it. */
  changed: [containerId: string];
  /**
   * The notices may have missed changes (the connection ended) or begin again (listening again):
   * whatever was learnt from them before cannot be trusted now.
   */
  reset: [listening: boolean];
}

/**
 * The channels berth's PostgreSQL store notifies on (triggers in pg-migrations.ts), each notice's payload
 * a container id: its placement changed (placed, moved, removed), or its state (written, or the row made
 * or removed).
 */
export const NOTICE_CHANNELS = {
  placements: { channel: "berth_placements", what: "placement changes" },
  states: { channel: "berth_container_states", what: "container state changes" },
} as const;
export type NoticeKind = keyof typeof NOTICE_CHANNELS;

/** Why a notice is at most this long: a berth container id (container-id.ts), with room. */
const MAX_PAYLOAD = 64;
/**
 * A connection that only listens never writes, so one that died silently (a NAT's timeout, a failover that
 * moved the address) would look alive for ever while no notice comes: it is asked a round trip this
 * often, and taken for dead when the answer does not come within ANSWER_WITHIN_MS.
 */
const CHECK_EVERY_MS = 10_000;
const ANSWER_WITHIN_MS = 5_000;

/**
 * One kind of change notices (NOTICE_CHANNELS: sent by a trigger of the
 * PostgreSQL store at each commit that changes a placement, or a container's
 * state), heard on a connection of its own — never one of the pool's, which is
 * handed to others between queries and would take the LISTEN with it. When
 * the connection ends, `reset` (not listening) is told at once and the
 * connection is made again with back-off; `reset` (listening) once it is.
 */
export class PgChangeNotices extends EventEmitter<ChangeNoticesEvents> {
  readonly #url: string;
  readonly #channel: string;
  readonly #what: string;
  readonly #hide: (text: string) => string;
  readonly #log: SystemLogger;
  readonly #checkEveryMs: number;
  readonly #answerWithinMs: number;
  readonly #stop = new AbortController();
  #client: pg.Client | undefined;
  /** Whether `#client` has connected (it is being connected until then). */
  #connected = false;
  #listening = false;
  #loop: Promise<void> | undefined;

  constructor(
    url: string,
    kind: NoticeKind,
    log: SystemLogger,
    options: { checkEveryMs?: number; answerWithinMs?: number } = {},
  ) {
    super();
    this.#channel = NOTICE_CHANNELS[kind].channel;
    this.#what = NOTICE_CHANNELS[kind].what;
    this.#checkEveryMs = options.checkEveryMs ?? CHECK_EVERY_MS;
    this.#answerWithinMs = options.answerWithinMs ?? ANSWER_WITHIN_MS;
    this.#url = url;
    const forms = passwordForms(url);
    this.#hide = (text) => forms.reduce((t, form) => t.split(form).join("[REDACTED]"), text);
    this.#log = log.child({ component: "ChangeNotices", channel: this.#channel });
  }

  get listening(): boolean {
    return this.#listening;
  }

  start(): this {
    this.#loop ??= this.#run();
    return this;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    const client = this.#client;
    // A connection still being made is cut by its socket, as pg's own connect timeout cuts it: pg's end()
    // then leaves the connect unsettled for ever (pg 8.x), and the loop waits on that connect.
    if (client && !this.#connected) client.connection.stream.destroy();
    else await client?.end().catch(() => undefined);
    await this.#loop;
  }

  async #run(): Promise<void> {
    let delayMs = 250;
    while (!this.#stop.signal.aborted) {
      const ended = await this.#listenOnce().catch((err: unknown) => {
        // A connection cut by close() is no failure to tell.
        if (!this.#stop.signal.aborted)
          this.#log.warn({ err: asPgStorageError(err, this.#hide) }, `cannot listen for ${this.#what}`);
        return undefined;
      });
      if (ended) {
        delayMs = 250;
        await ended;
      }
      if (this.#stop.signal.aborted) return;
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.#stop.signal.removeEventListener("abort", onAbort);
          resolve();
        }, delayMs);
        this.#stop.signal.addEventListener("abort", onAbort, { once: true });
      });
      delayMs = Math.min(delayMs * 2, 5_000);
    }
  }

  /** Connects and listens; answers a promise that settles when the connection ends. */
  async #listenOnce(): Promise<Promise<void>> {
    const client = new pg.Client({
      connectionString: this.#url,
      // One name per kind: an operator sees what each of berth's listening sessions is for.
      application_name: `berth ${kind(this.#channel)}`,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    });
    let end!: () => void;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    let check: NodeJS.Timeout | undefined;
    const onEnd = (err?: Error) => {
      clearInterval(check);
      if (this.#client !== client) return;
      this.#client = undefined;
      if (this.#listening) {
        this.#listening = false;
        if (!this.#stop.signal.aborted) {
          this.#log.warn({ err: err && asPgStorageError(err, this.#hide) }, `stopped hearing ${this.#what}`);
          this.emit("reset", false);
        }
      }
      end();
    };
    client.on("error", onEnd);
    client.on("end", () => onEnd());
    client.on("notification", (n) => {
      if (n.channel !== this.#channel || !n.payload || n.payload.length > MAX_PAYLOAD) return;
      this.emit("changed", n.payload);
    });
    this.#client = client;
    this.#connected = false;
    try {
      await client.connect();
      this.#connected = true;
      await client.query(`LISTEN ${this.#channel}`);
    } catch (err) {
      this.#client = undefined;
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#stop.signal.aborted) {
      await client.end().catch(() => undefined);
      return ended;
    }
    this.#listening = true;
    this.emit("reset", true);
    check = setInterval(() => {
      let answered = false;
      const timer = setTimeout(() => {
        if (answered) return;
        // No answer: end it the hard way (a polite end would wait on the same dead socket).
        client.connection.stream.destroy();
        onEnd(new Error(`no answer within ${this.#answerWithinMs} ms`));
      }, this.#answerWithinMs);
      client
        .query("SELECT 1")
        .then(
          () => undefined,
          () => undefined, // an ended connection says so through 'error'/'end'
        )
        .finally(() => {
          answered = true;
          clearTimeout(timer);
        });
    }, this.#checkEveryMs);
    check.unref();
    return ended;
  }
}

/** `berth_placements` → `placements`: the session's name beside "berth". */
function kind(channel: string): string {
  return channel.replace(/^berth_/, "").replace(/_/g, " ");
}
