import type { CallOptions } from "./call-options.ts";
import { REQUEST_MARGIN_MS } from "./client-core.ts";
import type { ClientStreams } from "./client-streams.ts";
import type { MessageListener } from "./message-subscriptions.ts";
import { operationOptions } from "./operation-wait.ts";
import { type ProgressListener, withProgress } from "./progress.ts";
import type {
  CodeUpload,
  ContainerDetail,
  ContainerInfo,
  ContainerSpecInfo,
  CreatedContainer,
  LogLine,
  ReleaseInfo,
  RequestOf,
  ResourceUsage,
  ResourceUsageEvent,
  ResultMap,
  StatsHistory,
  UpdateResult,
} from "./protocol/index.ts";
import type { Subscription } from "./subscription.ts";

/** Options of `update()`. */
export interface UpdateOptions extends CallOptions {
  onProgress?: ProgressListener;
  /** How long the new release may take to say hello (berth's default: its ready timeout). */
  readyTimeoutMs?: number;
  /** A health check the new release must pass before the update is committed. */
  healthCheck?: RequestOf<"container:update">["healthCheck"];
}

/** Options of the stream iterators. */
export interface StreamOptions {
  /**
   * Events held for a consumer that reads slower than berth pushes (default
   * 10,000); beyond it the oldest are dropped and counted in the iterator's
   * `dropped`.
   */
  bufferSize?: number;
}

/**
 * An iterator over a stream berth pushes: `return()` (what `break` calls)
 * ends it and stops berth's stream; `dropped` counts the events left out:
 * while the consumer was more than its buffer behind, those berth reported
 * with `container:dropped` (it was behind itself), and for `followLogs` one
 * for each gap a resume could not read back (berth does not say how many
 * lines were in it).
 */
export type StreamIterator<T> = AsyncIterableIterator<T> & {
  readonly dropped: number;
  return(): Promise<IteratorResult<T>>;
};

/**
 * A handle on one of berth's containers, from `containers.create()` or
 * `containers.get()`. Its methods act on the container by id; those that
 * answer with the container (`start`, `stop`, `restart`, `status`) update
 * `info` too. The stream iterators (`followLogs`, `watchStats`) end cleanly
 * on `break` (berth stops sending) and when the client closes, and come back
 * by themselves after a reconnect.
 *
 * @example
 *   const bot = await berth.containers.create({ name: "echo", code: { files: { "index.js": src } } });
 *   console.log(await bot.request({ hello: "world" }));
 *   for await (const line of bot.followLogs({ tail: 10 })) if (line.text.includes("ready")) break;
 *   await bot.delete();
 */
export class Container {
  readonly id: string;
  readonly name: string;
  /** The last ContainerInfo berth answered with (from a create: with its `timings`). */
  info: ContainerInfo | CreatedContainer;
  /**
   * What the container was created with, secret values left out (only their
   * keys, in `secretEnvKeys`), bounded (see `truncated`): from the last
   * `status({ spec: true })` answer, the only one that carries it — berth
   * sends it only when asked, since it may be large. Undefined until then
   * (a handle from `containers.get()` or `create()` has none). A spec does
   * not change after the create, so a plain status, a start or a stop keeps it.
   *
   * @example
   *   const web = await berth.containers.get("web");
   *   const { spec } = await web.status({ spec: true });
   *   spec.secretEnvKeys; // ["API_KEY"]; web.spec is the same object now
   */
  spec: ContainerSpecInfo | undefined;
  readonly #streams: ClientStreams;

  constructor(streams: ClientStreams, info: ContainerInfo | CreatedContainer) {
    this.#streams = streams;
    this.id = info.id;
    this.name = info.name;
    this.info = info;
    this.spec = undefined;
  }

  get #core() {
    return this.#streams.core;
  }

  /**
   * Starts the container; by default the answer waits until its workload is
   * ready (and the client waits as long as berth may: its ready timeout, up
   * to its maximum, plus a minute, unless `timeoutMs` says otherwise).
   */
  start(options: { waitReady?: boolean } & CallOptions = {}): Promise<ContainerInfo> {
    const { waitReady, ...call } = options;
    return this.#info(
      "container:start",
      { id: this.id, ...(waitReady === undefined ? {} : { waitReady }) },
      operationOptions(this.#core, call, waitReady === false ? {} : { ready: {} }),
    );
  }

  /** Stops the container (SIGTERM, then SIGKILL after `timeoutSec`). */
  stop(options: { timeoutSec?: number } & CallOptions = {}): Promise<ContainerInfo> {
    const { timeoutSec, ...call } = options;
    return this.#info(
      "container:stop",
      { id: this.id, ...(timeoutSec === undefined ? {} : { timeoutSec }) },
      operationOptions(this.#core, call, { stop: { timeoutSec } }),
    );
  }

  /** Restarts the container; `onProgress` receives its steps (stop, start, ready). */
  restart(
    options: { timeoutSec?: number; waitReady?: boolean; onProgress?: ProgressListener } & CallOptions = {},
  ): Promise<ContainerInfo> {
    const { timeoutSec, waitReady, onProgress, ...call } = options;
    return withProgress(this.#core, onProgress, (progress) =>
      this.#info(
        "container:restart",
        {
          id: this.id,
          ...(timeoutSec === undefined ? {} : { timeoutSec }),
          ...(waitReady === undefined ? {} : { waitReady }),
          ...(progress ? { progress } : {}),
        },
        operationOptions(this.#core, call, {
          stop: { timeoutSec },
          ...(waitReady === false ? {} : { ready: {} }),
        }),
      ),
    );
  }

  /** Deletes the container (stopping it first) and its code; berth answers `{ id, deleted }`. */
  delete(options: CallOptions = {}): Promise<ResultMap["container:delete"]> {
    return this.#core.call(
      "container:delete",
      { id: this.id },
      operationOptions(this.#core, options, { stop: {} }),
    );
  }

  /**
   * The container as berth sees it now; with `spec: true`, also what it was
   * created with (`spec`, secret values left out, bounded; kept on the handle
   * as `spec`). Ask for the spec only where it is shown: it is a large read,
   * counted toward the connection's cap on those.
   *
   * @example
   *   const info = await web.status();                   // ContainerInfo
   *   const { spec } = await web.status({ spec: true }); // ContainerDetail
   */
  status(options: { spec: true } & CallOptions): Promise<ContainerDetail>;
  status(options?: { spec?: boolean } & CallOptions): Promise<ContainerInfo | ContainerDetail>;
  async status(options: { spec?: boolean } & CallOptions = {}): Promise<ContainerInfo | ContainerDetail> {
    const { spec, ...call } = options;
    const info = await this.#core.call("container:status", { id: this.id, ...(spec ? { spec } : {}) }, call);
    this.info = info;
    if ("spec" in info) this.spec = info.spec;
    return info;
  }

  /**
   * Sends `data` to the workload and resolves with its answer. berth waits
   * `timeoutMs` for it (CHANNEL_TIMEOUT); the client waits a little longer,
   * so that berth's answer comes first.
   */
  request<T = unknown>(data: unknown, options: CallOptions = {}): Promise<T> {
    const { timeoutMs, signal } = options;
    const wait = (timeoutMs ?? this.#core.info.limits.maxRequestTimeoutMs) + REQUEST_MARGIN_MS;
    return this.#core.call(
      "container:request",
      {
        id: this.id,
        data: data as RequestOf<"container:request">["data"],
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      },
      { timeoutMs: wait, ...(signal ? { signal } : {}) },
    ) as Promise<T>;
  }

  /** Sends `data` to the workload as a one-way message; resolves once berth has passed it on. */
  async send(data: unknown, options: CallOptions = {}): Promise<void> {
    await this.#core.call(
      "container:send",
      { id: this.id, data: data as RequestOf<"container:send">["data"] },
      options,
    );
  }

  /**
   * Calls `listener` with each message the workload sends. The first
   * listener of a container subscribes (`container:subscribe`), and the
   * subscription ends after the last one is removed. Returns the
   * unsubscribe; its `ready` settles once berth has confirmed.
   *
   * @example
   *   const off = bot.onMessage((data) => console.log("bot says", data));
   *   await off.ready;
   *   off();
   */
  onMessage(listener: MessageListener): Subscription {
    return this.#streams.messages.add(this.id, listener);
  }

  /** The last `tail` lines of output (since `since`, epoch ms). */
  async logs(options: { tail?: number; since?: number } & CallOptions = {}): Promise<LogLine[]> {
    const { tail, since, ...call } = options;
    const answer = await this.#core.call(
      "container:logs",
      { id: this.id, ...(tail === undefined ? {} : { tail }), ...(since === undefined ? {} : { since }) },
      call,
    );
    return answer.lines;
  }

  /**
   * The output as it comes: the last `tail` lines first (default 0), then
   * each new line, until `break`/`return()` (which stops berth's follow) or
   * the client closes, or the container is deleted (then it ends cleanly).
   * After a reconnect, and when the container runs again after a restart,
   * an update, a rollback or its restart policy, it goes on from its last
   * line, without giving a line twice.
   *
   * @example
   *   for await (const line of bot.followLogs({ tail: 20 })) console.log(line.stream, line.text);
   */
  followLogs(options: { tail?: number } & StreamOptions = {}): StreamIterator<LogLine> {
    return this.#streams.logs.follow(this.id, options.tail ?? 0, options.bufferSize);
  }

  /** Resource usage every `intervalMs` (default 1000, at least 250) until `break`/`return()` or the client closes. */
  watchStats(options: { intervalMs?: number } & StreamOptions = {}): StreamIterator<ResourceUsageEvent> {
    const { intervalMs, bufferSize } = options;
    return this.#streams.stats.open(this.id, intervalMs === undefined ? {} : { intervalMs }, bufferSize);
  }

  /** One sample of resource usage now. */
  stats(options: CallOptions = {}): Promise<ResourceUsage> {
    return this.#core.call("container:stats", { id: this.id }, options);
  }

  /**
   * The resource samples berth kept of the last 10 minutes, oldest first, one
   * per `intervalMs`: what a chart shows before `watchStats` brings more.
   * Empty while the container does not run.
   *
   * @example
   *   const { samples } = await bot.statsHistory();
   *   const memory = samples.map((s) => [s.ts, s.memoryBytes]);
   */
  statsHistory(options: CallOptions = {}): Promise<StatsHistory> {
    return this.#core.call("container:stats_history", { id: this.id }, options);
  }

  /**
   * Replaces the workload's code with a new release, restarts it, and keeps
   * it if it comes back (and passes `healthCheck`); otherwise berth puts the
   * previous release back and this throws UPDATE_ROLLED_BACK. Code over
   * berth's limits is refused before sending (PAYLOAD_TOO_LARGE).
   */
  update(code: CodeUpload, options: UpdateOptions = {}): Promise<UpdateResult> {
    const { onProgress, readyTimeoutMs, healthCheck, ...call } = options;
    return withProgress(this.#core, onProgress, (progress) =>
      this.#core.call(
        "container:update",
        {
          id: this.id,
          code,
          ...(readyTimeoutMs === undefined ? {} : { readyTimeoutMs }),
          ...(healthCheck === undefined ? {} : { healthCheck }),
          ...(progress ? { progress } : {}),
        },
        operationOptions(this.#core, call, {
          stop: {},
          ready: { readyTimeoutMs },
          health: healthCheck,
          undoable: true,
        }),
      ),
    );
  }

  /** Puts back `release` (default: the previous one). */
  rollback(
    options: { release?: number; onProgress?: ProgressListener } & CallOptions = {},
  ): Promise<UpdateResult> {
    const { release, onProgress, ...call } = options;
    return withProgress(this.#core, onProgress, (progress) =>
      this.#core.call(
        "container:rollback",
        { id: this.id, ...(release === undefined ? {} : { release }), ...(progress ? { progress } : {}) },
        operationOptions(this.#core, call, { stop: {}, ready: {}, undoable: true }),
      ),
    );
  }

  /** The releases berth keeps of this container's code, newest first. */
  async releases(options: CallOptions = {}): Promise<ReleaseInfo[]> {
    return (await this.#core.call("container:releases", { id: this.id }, options)).items;
  }

  async #info(
    event: "container:start" | "container:stop" | "container:restart",
    payload: RequestOf<"container:start" | "container:stop" | "container:restart">,
    options: CallOptions,
  ): Promise<ContainerInfo> {
    const info = await this.#core.call(event, payload as RequestOf<"container:restart">, options);
    this.info = info;
    return info;
  }
}
