import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { DockerUnavailableError } from "../errors/errors.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { AgentConnection, type AgentSocket, DEFAULT_AGENT_CONNECTION_LIMITS } from "./agent-connection.ts";

/** An agent's socket as the API side holds it: every call it is sent kept, with the way to answer it. */
class FakeAgentSocket extends EventEmitter {
  readonly sent: Array<{
    event: string;
    payload: { id?: string; method?: string };
    ack?: (a: unknown) => void;
  }> = [];
  override emit(event: string, payload?: unknown, ack?: (a: unknown) => void): boolean {
    this.sent.push({ event, payload: payload as { id?: string }, ...(ack ? { ack } : {}) });
    return true;
  }
  disconnect(): void {}
  /** Answers every call of `method` sent so far. */
  answer(method: string, value: unknown): void {
    for (const s of this.sent) if (s.payload.method === method) s.ack?.({ ok: true, value });
  }
  calls(method: string): number {
    return this.sent.filter((s) => s.event === "call" && s.payload.method === method).length;
  }
}

function connection(limits = { waits: 2, subscriptions: 2 }) {
  let logText = "";
  const destination = new PassThrough();
  destination.on("data", (c: Buffer) => {
    logText += c.toString();
  });
  const log = createSystemLogger({ level: "debug", redactor: new Redactor(), destination });
  const socket = new FakeAgentSocket();
  const identity = { nodeId: "node1", hostname: "h", version: "t" };
  const agent = new AgentConnection(socket as unknown as AgentSocket, identity, log, () => undefined, limits);
  return { agent, socket, logs: () => logText };
}

describe("what one agent connection may hold open on the API side", () => {
  it("fails a wait over the limit at once, retryable, without sending it; takes one again once a wait ends", async () => {
    const { agent, socket, logs } = connection();
    const signal = new AbortController().signal;
    const waits = [agent.call("waitForExit", ["a"], signal), agent.call("waitForExit", ["b"], signal)];
    const over = agent.call("waitForExit", ["c"], signal);
    await expect(over).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(over).rejects.toMatchObject({ retryable: true, details: { op: "waitForExit" } });
    expect(socket.calls("waitForExit")).toBe(2);
    expect(agent.open).toMatchObject({ waits: 2 });
    // Other calls are not waits: they go.
    void agent.call("ping", []).catch(() => {});
    expect(socket.calls("ping")).toBe(1);
    expect(logs().split("holds as many waits as it may").length - 1).toBe(1);
    socket.answer("waitForExit", 0);
    await expect(Promise.all(waits)).resolves.toEqual([0, 0]);
    expect(agent.open).toMatchObject({ waits: 0 });
    void agent.call("waitForExit", ["d"], signal).catch(() => {});
    expect(socket.calls("waitForExit")).toBe(3);
  });

  it("fails a subscription over the limit at once, without sending it; takes one again once one is closed", async () => {
    const { agent, socket } = connection();
    const subscribing = [agent.subscribe({}, 0, () => {}), agent.subscribe({}, 0, () => {})];
    socket.answer("streamEvents", null);
    const [first] = await Promise.all(subscribing);
    await expect(agent.subscribe({}, 0, () => {})).rejects.toMatchObject({
      code: "DOCKER_UNAVAILABLE",
      retryable: true,
      details: { op: "streamEvents" },
    });
    expect(socket.calls("streamEvents")).toBe(2);
    first!.close();
    void agent.subscribe({}, 0, () => {}).catch(() => {});
    expect(socket.calls("streamEvents")).toBe(3);
  });

  it("is 4096 waits and 4096 subscriptions unless said otherwise", () => {
    expect(DEFAULT_AGENT_CONNECTION_LIMITS).toEqual({ waits: 4096, subscriptions: 4096 });
  });
});
