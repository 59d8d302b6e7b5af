import { type CallAnswer, CallSchema, CancelSchema, type Push } from "../agent-link/agent-link-contract.ts";
import {
  ENGINE_METHODS,
  type EngineMethod,
  isEngineMethod,
  OUTPUT_CHUNK_BYTES,
  type ParsedArgsOf,
} from "../agent-link/engine-methods.ts";
import { toLinkError } from "../agent-link/link-error.ts";
import type { DockerClient, EventSubscription } from "../docker/docker-client.ts";
import { ValidationError } from "../errors/errors.ts";
import { fromZodError } from "../errors/to-wire.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { EngineFence } from "./engine-fence.ts";
import type { FilesCallServer } from "./files-call-server.ts";
import type { UsageCallServer } from "./usage-call-server.ts";

interface CallContext {
  id: string;
  signal: AbortSignal;
}

type Invokers = {
  [M in EngineMethod]: (args: ParsedArgsOf<M>, ctx: CallContext) => Promise<unknown>;
};

/**
 * Serves one API server's engine calls on this node's engine, for the life of
 * one connection to it, and hands its `files` calls to a FilesCallServer and
 * its `usage` calls to a UsageCallServer.
 * Every engine call is checked before the engine sees it: an
 * envelope of a known kind, a method of the allow-list (ENGINE_METHODS), its
 * arguments by that method's schema — a create body must be berth's hardened
 * one. A `cancel` aborts a wait in flight or closes an event subscription or
 * an output follow. A workload's output (`readLogs`, `followLogs`) is pushed
 * raw, in pieces of at most OUTPUT_CHUNK_BYTES, under the call's id.
 * `close()` (the connection ended) aborts every wait and closes every
 * subscription it made: nothing it started outlives the connection, while the
 * containers themselves run on.
 *
 * @example
 *   const server = new EngineCallServer(docker, (push) => socket.emit("push", push), log);
 *   socket.on("call", (call, ack) => void server.call(call, ack));
 *   socket.on("cancel", (c) => server.cancel(c));
 *   socket.on("disconnect", () => server.close());
 */
export class EngineCallServer {
  readonly #docker: DockerClient;
  readonly #push: (push: Push) => void;
  readonly #log: SystemLogger;
  readonly #files: FilesCallServer | undefined;
  readonly #usage: UsageCallServer | undefined;
  readonly #fence: EngineFence | undefined;
  readonly #inFlight = new Map<string, AbortController>();
  readonly #subscriptions = new Map<string, EventSubscription>();
  #closed = false;

  /**
   * `files`: where `files` calls go (a workload's files on this node); `usage`: where `usage` calls go (its
   * workloads' resource usage). Without them, such calls are refused.
   * `fence`: what a create or a start must pass first (the agent's lease, the copy's generation).
   */
  constructor(
    docker: DockerClient,
    push: (push: Push) => void,
    log: SystemLogger,
    files?: FilesCallServer,
    usage?: UsageCallServer,
    fence?: EngineFence,
  ) {
    this.#docker = docker;
    this.#push = push;
    this.#log = log;
    this.#files = files;
    this.#usage = usage;
    this.#fence = fence;
  }

  /** Answers one `call` through `ack`; a call without an acknowledgement is dropped (no caller waits for it). */
  async call(raw: unknown, ack: unknown): Promise<void> {
    if (typeof ack !== "function") {
      this.#log.warn("dropped a call without an acknowledgement");
      return;
    }
    const answer = await this.#answer(raw);
    // Its connection ended meanwhile: nobody waits for it there, and socket.io-client would write the
    // acknowledgement on whatever connection it holds now — after a reconnect a new one, whose server
    // (restarted, its ack ids counting from 0 again) could take it for the answer to another call.
    if (this.#closed) {
      this.#log.debug(
        { op: (raw as { method?: unknown })?.method },
        "dropped the answer of a call whose connection ended",
      );
      return;
    }
    (ack as (answer: CallAnswer) => void)(answer);
  }

  cancel(raw: unknown): void {
    const parsed = CancelSchema.safeParse(raw);
    if (!parsed.success) return;
    const { id } = parsed.data;
    this.#inFlight.get(id)?.abort(new Error("cancelled by the API server"));
    const subscription = this.#subscriptions.get(id);
    this.#subscriptions.delete(id);
    subscription?.close();
  }

  /** Waits in flight and event subscriptions this connection made: aborted and closed. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const abort of this.#inFlight.values()) abort.abort(new Error("the API server's connection ended"));
    this.#inFlight.clear();
    for (const subscription of this.#subscriptions.values()) subscription.close();
    this.#subscriptions.clear();
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  get subscriptions(): number {
    return this.#subscriptions.size;
  }

  async #answer(raw: unknown): Promise<CallAnswer> {
    const call = CallSchema.safeParse(raw);
    if (!call.success) return failed(fromZodError(call.error));
    // Channel calls go to the ChannelCallServer (ServerLink dispatches them), never here.
    if (call.data.kind === "channel")
      return failed(new ValidationError("This node agent serves no channel calls."));
    // Network calls likewise go to the NetworkCallServer; here only when this agent serves none.
    if (call.data.kind === "network")
      return failed(new ValidationError("This node agent serves no network calls."));
    if (call.data.kind === "files") {
      if (this.#closed) return failed(new ValidationError("The connection has ended."));
      if (!this.#files) return failed(new ValidationError("This node agent serves no files calls."));
      return this.#files.answer(call.data.op, call.data.args, call.data.generation);
    }
    if (call.data.kind === "usage") {
      if (this.#closed) return failed(new ValidationError("The connection has ended."));
      if (!this.#usage) return failed(new ValidationError("This node agent serves no usage calls."));
      return this.#usage.answer(call.data.op, call.data.args);
    }
    const { id, method, args } = call.data;
    if (!isEngineMethod(method))
      return failed(new ValidationError(`The node agent forwards no engine call named '${method}'.`));
    const parsed = ENGINE_METHODS[method].args.safeParse(args);
    if (!parsed.success) {
      this.#log.warn(
        { op: method, issues: parsed.error.issues.length },
        "refused an engine call's arguments",
      );
      return failed(fromZodError(parsed.error));
    }
    if (this.#inFlight.has(id) || this.#subscriptions.has(id))
      return failed(new ValidationError(`The call id '${id}' is in use on this connection.`));
    if (this.#closed) return failed(new ValidationError("The connection has ended."));
    const abort = new AbortController();
    this.#inFlight.set(id, abort);
    try {
      const invoke = this.#invokers[method] as (args: unknown, ctx: CallContext) => Promise<unknown>;
      const value = await invoke(parsed.data, { id, signal: abort.signal });
      return { ok: true, value: value ?? null };
    } catch (err) {
      if (!abort.signal.aborted) this.#log.debug({ err, op: method }, "engine call failed");
      return failed(err);
    } finally {
      this.#inFlight.delete(id);
    }
  }

  readonly #invokers: Invokers = {
    ping: () => this.#docker.ping(),
    version: () => this.#docker.version(),
    probe: () => this.#docker.probe(),
    inspectImage: ([ref]) => this.#docker.inspectImage(ref),
    createContainer: async ([body]) => {
      this.#fence?.create(body);
      const engineId = await this.#docker.createContainer(body);
      this.#fence?.created(body, engineId);
      return engineId;
    },
    startContainer: async ([ref]) => {
      await this.#fence?.start(ref);
      return this.#docker.startContainer(ref);
    },
    stopContainer: ([ref, timeoutSec]) => this.#docker.stopContainer(ref, timeoutSec),
    removeContainer: async ([ref]) => {
      await this.#docker.removeContainer(ref);
      this.#fence?.removed(ref);
    },
    updateCpuLimit: ([ref, nanoCpus]) => this.#docker.updateCpuLimit(ref, nanoCpus),
    waitForExit: ([ref], { signal }) => this.#docker.waitForExit(ref, signal),
    inspectContainer: ([ref]) => this.#docker.inspectContainer(ref),
    listContainers: ([labels]) => this.#docker.listContainers(labels),
    containerLogs: ([ref, tail, sinceMs]) => this.#docker.containerLogs(ref, tail, sinceMs ?? undefined),
    streamEvents: ([labels, sinceMs], ctx) => this.#subscribe(labels, sinceMs, ctx),
    readLogs: ([ref, opts], ctx) => this.#docker.readLogs(ref, opts, this.#output(ctx)),
    followLogs: async ([ref, opts], ctx) =>
      this.#keep(await this.#docker.followLogs(ref, opts, this.#output(ctx)), ctx),
  };

  /**
   * Pushes a workload's output under the call's id, in pieces a push may carry. Nothing once the call was
   * cancelled (a read the API side stopped waiting for: the engine's read itself cannot be stopped), nor
   * once the connection ended: a read still under way must not send its output to the next connection
   * (whose calls are numbered afresh, so an id of this one may name another call there).
   */
  #output({ id, signal }: CallContext): (chunk: Buffer) => void {
    return (chunk) => {
      for (let at = 0; at < chunk.length && !this.#closed && !signal.aborted; at += OUTPUT_CHUNK_BYTES)
        this.#push({
          kind: "engine-output",
          subscription: id,
          data: chunk.subarray(at, at + OUTPUT_CHUNK_BYTES),
        });
    };
  }

  async #subscribe(labels: Record<string, string>, sinceMs: number, ctx: CallContext): Promise<void> {
    const subscription = await this.#docker.streamEvents(labels, sinceMs, (event) =>
      this.#push({ kind: "engine-event", subscription: ctx.id, event }),
    );
    this.#keep(subscription, ctx);
  }

  /** Keeps an event stream or an output follow open under its call's id, until cancelled or ended. */
  #keep(subscription: EventSubscription, { id, signal }: CallContext): void {
    // Cancelled, or the connection ended, while the stream was being opened: nobody wants what it sends.
    if (signal.aborted) {
      subscription.close();
      return;
    }
    this.#subscriptions.set(id, subscription);
    subscription.done.then(
      () => this.#ended(id, undefined),
      (err: unknown) => this.#ended(id, err),
    );
  }

  #ended(id: string, err: unknown): void {
    // Closed by a cancel or by close(): the API side already knows.
    if (!this.#subscriptions.delete(id)) return;
    if (err !== undefined) this.#log.warn({ err }, "engine event stream lost");
    this.#push({
      kind: "engine-events-ended",
      subscription: id,
      ...(err === undefined ? {} : { error: toLinkError(err) }),
    });
  }
}

function failed(err: unknown): CallAnswer {
  return { ok: false, error: toLinkError(err) };
}
