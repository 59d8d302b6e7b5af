import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { ChannelInfo } from "#protocol";
import type { DockerClient } from "../docker/docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { SecretSet } from "../logging/secret-set.ts";
import { NotReadyError, type ReadinessInput, waitUntilReady } from "./readiness.ts";
import type { WorkloadChannel } from "./workload-channel.ts";

const SECRET = "s3cr3t-value-of-the-owner";

/** A channel a test drives by hand: who is connected since when, hellos, refused hellos. */
class ScriptedChannel extends EventEmitter implements WorkloadChannel {
  info: ChannelInfo = { connected: false };
  refused: { reason: string; at: number } | undefined;
  readonly #waiters: Array<() => void> = [];

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  status(): ChannelInfo {
    return this.info;
  }

  lastBadHello(): { reason: string; at: number } | undefined {
    return this.refused;
  }

  waitForHello(_id: string, opts: { signal?: AbortSignal } = {}): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#waiters.push(() => resolve({}));
      opts.signal?.addEventListener("abort", () => reject(opts.signal?.reason), { once: true });
    });
  }

  /** The workload connects and says hello now. */
  hello(): void {
    this.info = { connected: true, connectedAt: Date.now(), protocol: 1 };
    for (const w of this.#waiters.splice(0)) w();
  }

  badHello(id: string, reason: string): void {
    this.refused = { reason, at: Date.now() };
    this.emit("bad_hello", id, reason);
  }
}

/** The two engine calls readiness makes: the wait for the process to exit, and its last lines. */
class ScriptedEngine {
  readonly waits: AbortSignal[] = [];
  readonly logReads: Array<{ dockerId: string; tail: number; sinceMs: number | undefined }> = [];
  lines: string[] = [];
  logsFail = false;
  #exit: ((code: number) => void) | undefined;

  exit(code: number): void {
    this.#exit?.(code);
  }

  get client(): DockerClient {
    return {
      waitForExit: (_dockerId: string, signal: AbortSignal) => {
        this.waits.push(signal);
        return new Promise<number>((resolve, reject) => {
          this.#exit = resolve;
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      },
      containerLogs: async (dockerId: string, tail: number, sinceMs?: number) => {
        this.logReads.push({ dockerId, tail, sinceMs });
        if (this.logsFail) throw new Error("engine gone");
        return this.lines;
      },
    } as unknown as DockerClient;
  }
}

function setUp(overrides: Partial<ReadinessInput> = {}) {
  const channel = new ScriptedChannel();
  const engine = new ScriptedEngine();
  const secrets = new SecretSet();
  secrets.add(SECRET);
  const input: ReadinessInput = {
    id: "c1",
    dockerId: "d1",
    timeoutMs: 5_000,
    startedAt: Date.now(),
    docker: engine.client,
    channel,
    redactor: new Redactor(() => [secrets]),
    ...overrides,
  };
  return { channel, engine, input, ready: () => waitUntilReady(input) };
}

async function notReady(promise: Promise<void>): Promise<NotReadyError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotReadyError);
  return err as NotReadyError;
}

/** Resolves once `fn` has run on a later turn: readiness has set up its listeners by then. */
const soon = (fn: () => void) => new Promise<void>((resolve) => setImmediate(() => resolve(fn())));

describe("waitUntilReady", () => {
  it("is ready at once when the workload said hello since berth started it, without asking the engine", async () => {
    const { channel, engine, input, ready } = setUp();
    channel.info = { connected: true, connectedAt: input.startedAt! + 1, protocol: 1 };

    await ready();

    expect(engine.waits).toEqual([]);
  });

  it("takes a workload connected now as ready when berth did not just start it", async () => {
    const { channel, ready } = setUp({ startedAt: undefined });
    channel.info = { connected: true, connectedAt: 1, protocol: 1 };

    await expect(ready()).resolves.toBeUndefined();
  });

  it("does not count a connection from before the start, and is ready at the next hello", async () => {
    const { channel, engine, input, ready } = setUp();
    channel.info = { connected: true, connectedAt: input.startedAt! - 1_000, protocol: 1 };

    const waiting = ready();
    await soon(() => channel.hello());

    await expect(waiting).resolves.toBeUndefined();
    // Nothing is left waiting on the engine or the channel.
    expect(engine.waits[0]?.aborted).toBe(true);
    expect(channel.listenerCount("bad_hello")).toBe(0);
  });

  it("fails at once with the reason when the hello was refused since the start, before the wait began", async () => {
    const { channel, engine, input, ready } = setUp();
    channel.refused = { reason: "protocol_mismatch", at: input.startedAt! + 1 };

    const err = await notReady(ready());

    expect(err.details).toEqual({ cause: "bad_hello", reason: "protocol_mismatch" });
    expect(err.message).toBe("The workload's handshake was refused: protocol_mismatch.");
    expect(engine.waits).toEqual([]);
  });

  it("does not hold a hello refused before the start against the new run", async () => {
    const { channel, input, ready } = setUp();
    channel.refused = { reason: "invalid_hello", at: input.startedAt! - 1 };

    const waiting = ready();
    await soon(() => channel.hello());

    await expect(waiting).resolves.toBeUndefined();
  });

  it("fails as soon as its own workload's hello is refused, not at the timeout, and not for another's", async () => {
    const { channel, ready } = setUp({ timeoutMs: 60_000 });

    const waiting = ready();
    await soon(() => channel.badHello("c2", "invalid_hello"));
    await soon(() => channel.badHello("c1", "protocol_mismatch"));
    const err = await notReady(waiting);

    expect(err.details).toEqual({ cause: "bad_hello", reason: "protocol_mismatch" });
    expect(channel.listenerCount("bad_hello")).toBe(0);
  });

  it("fails as soon as the process exits, with its exit code and this run's last lines, sanitised and redacted", async () => {
    const { engine, input, ready } = setUp({ timeoutMs: 60_000 });
    engine.lines = ["starting", `token=${SECRET}`, "\u001b[31mfatal:\u001b[0m cannot bind"];

    const waiting = ready();
    await soon(() => engine.exit(3));
    const err = await notReady(waiting);

    expect(err.details).toEqual({
      cause: "exited",
      exitCode: 3,
      output: ["starting", "token=[REDACTED]", "fatal: cannot bind"],
    });
    expect(err.message).toBe("The workload exited with code 3 before it was ready.");
    // Only this run's lines: the engine keeps the output of earlier runs too.
    expect(engine.logReads).toEqual([{ dockerId: "d1", tail: 20, sinceMs: input.startedAt }]);
  });

  it("still says the process exited when its output cannot be read", async () => {
    const { engine, ready } = setUp({ timeoutMs: 60_000 });
    engine.logsFail = true;

    const waiting = ready();
    await soon(() => engine.exit(1));

    expect((await notReady(waiting)).details).toEqual({ cause: "exited", exitCode: 1, output: [] });
  });

  it("says the workload never connected when the time runs out without a hello, with its output", async () => {
    const { engine, channel, ready } = setUp({ timeoutMs: 30 });
    engine.lines = ["listening on the wrong socket"];

    const err = await notReady(ready());

    expect(err.details).toEqual({
      cause: "never_connected",
      timeoutMs: 30,
      output: ["listening on the wrong socket"],
    });
    expect(err.message).toContain("never connected to its socket within 30 ms");
    expect(engine.waits[0]?.aborted).toBe(true);
    expect(channel.listenerCount("bad_hello")).toBe(0);
  });

  it("says the workload was not ready in time when it connected since the start but the wait saw no hello", async () => {
    const { channel, engine, ready } = setUp({ timeoutMs: 30 });

    const waiting = ready();
    // Connected during the wait, then gone again before its hello reached this wait.
    await soon(() => {
      channel.info = { connected: false, connectedAt: Date.now() };
    });
    const err = await notReady(waiting);

    expect(err.details).toEqual({ cause: "timeout", timeoutMs: 30 });
    expect(err.message).toBe("The workload was not ready within 30 ms.");
    expect(engine.logReads).toEqual([]);
  });
});
