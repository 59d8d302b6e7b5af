import { describe, expect, it } from "vitest";
import type { Call } from "../agent-link/agent-link-contract.ts";
import { type CallLane, LinkCalls, type OutgoingCall } from "./link-calls.ts";

/** The link's side of a socket: what was emitted, and each call's acknowledgement to answer it with. */
class FakeSocket {
  readonly calls: Array<{ call: Call; ack: (answer: unknown) => void }> = [];
  readonly cancels: string[] = [];
  emit(event: string, ...args: unknown[]): void {
    if (event === "call") this.calls.push({ call: args[0] as Call, ack: args[1] as (a: unknown) => void });
    if (event === "cancel") this.cancels.push((args[0] as { id: string }).id);
  }
}

class FakeLane implements CallLane {
  readonly calls: Call[] = [];
  readonly cancels: string[] = [];
  call(envelope: Call): void {
    this.calls.push(envelope);
  }
  cancel(id: string): void {
    this.cancels.push(id);
  }
}

const channelCall = (
  container: string,
  options: Partial<OutgoingCall<unknown>> = {},
): OutgoingCall<unknown> => ({
  envelope: (id) => ({ kind: "channel", id, op: "request", args: [container, "x", 1000] }),
  timeoutMs: undefined,
  signal: undefined,
  read: (raw) => raw,
  lost: (reason) => new Error(`lost: ${reason}`),
  timedOut: () => new Error("timed out"),
  lane: container,
  ...options,
});

describe("LinkCalls with a channel lane", () => {
  it("sends channel calls on the lane, and anything else on the link", async () => {
    const socket = new FakeSocket();
    const calls = new LinkCalls(socket);
    const lane = new FakeLane();
    calls.useLane(lane);
    const onLane = calls.send(channelCall("C1"));
    const onLink = calls.send(channelCall("C1", { lane: undefined }));
    expect(lane.calls.map((c) => c.id)).toEqual(["1"]);
    expect(socket.calls.map((c) => c.call.id)).toEqual(["2"]);
    calls.answer(lane, "1", "from the lane");
    socket.calls[0]?.ack("from the link");
    await expect(onLane).resolves.toEqual({ id: "1", value: "from the lane" });
    await expect(onLink).resolves.toEqual({ id: "2", value: "from the link" });
  });

  it("keeps a channel's calls in order: none goes on the lane while one on the link for it waits", async () => {
    const socket = new FakeSocket();
    const calls = new LinkCalls(socket);
    const first = calls.send(channelCall("C1"));
    const lane = new FakeLane();
    calls.useLane(lane);
    const second = calls.send(channelCall("C1"));
    const other = calls.send(channelCall("C2"));
    expect(socket.calls.map((c) => c.call.id)).toEqual(["1", "2"]);
    expect(lane.calls.map((c) => c.id)).toEqual(["3"]);
    socket.calls[0]?.ack("one");
    socket.calls[1]?.ack("two");
    await Promise.all([first, second]);
    const third = calls.send(channelCall("C1"));
    expect(lane.calls.map((c) => c.id)).toEqual(["3", "4"]);
    calls.answer(lane, "3", "three");
    calls.answer(lane, "4", "four");
    await expect(Promise.all([other, third])).resolves.toEqual([
      { id: "3", value: "three" },
      { id: "4", value: "four" },
    ]);
  });

  it("fails the calls on a lane that closed as lost, and sends the next ones on the link", async () => {
    const socket = new FakeSocket();
    const calls = new LinkCalls(socket);
    const lane = new FakeLane();
    calls.useLane(lane);
    const pending = calls.send(channelCall("C1"));
    calls.dropLane(lane, "the lane closed");
    await expect(pending).rejects.toThrow("lost: the lane closed");
    void calls.send(channelCall("C1"));
    expect(socket.calls.map((c) => c.call.id)).toEqual(["2"]);
    expect(calls.size).toBe(1);
  });

  it("drops an answer that came on another lane than its call's, or for a call settled already", async () => {
    const calls = new LinkCalls(new FakeSocket());
    const old = new FakeLane();
    calls.useLane(old);
    const first = calls.send(channelCall("C1"));
    const lane = new FakeLane();
    calls.useLane(lane);
    calls.answer(lane, "1", "not on its lane");
    expect(calls.size).toBe(1);
    calls.answer(old, "1", "on its lane");
    await expect(first).resolves.toEqual({ id: "1", value: "on its lane" });
    calls.answer(old, "1", "twice");
    // The old lane closing fails nothing of the new one's.
    const second = calls.send(channelCall("C1"));
    calls.dropLane(old, "closed");
    expect(calls.size).toBe(1);
    calls.answer(lane, "2", "ok");
    await expect(second).resolves.toEqual({ id: "2", value: "ok" });
  });

  it("cancels on the lane a call sent there (aborted, or timed out)", async () => {
    const socket = new FakeSocket();
    const calls = new LinkCalls(socket);
    const lane = new FakeLane();
    calls.useLane(lane);
    const abort = new AbortController();
    const aborted = calls.send(channelCall("C1", { signal: abort.signal }));
    abort.abort(new Error("caller gave up"));
    await expect(aborted).rejects.toThrow("caller gave up");
    await expect(calls.send(channelCall("C1", { timeoutMs: 10 }))).rejects.toThrow("timed out");
    expect(lane.cancels).toEqual(["1", "2"]);
    expect(socket.cancels).toEqual([]);
  });
});
