import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CallAnswer, Push } from "../agent-link/agent-link-contract.ts";
import { OUTPUT_CHUNK_BYTES } from "../agent-link/engine-methods.ts";
import { OutputEngine } from "../docker/testing/output-engine.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EngineCallServer } from "./engine-call-server.ts";

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });

function setUp() {
  const docker = new OutputEngine();
  const pushes: Push[] = [];
  const server = new EngineCallServer(docker, (p) => pushes.push(p), log);
  const call = (id: string, method: string, args: unknown[]): Promise<CallAnswer> =>
    new Promise((resolve) => void server.call({ kind: "engine", id, method, args }, resolve));
  const output = (id: string) =>
    Buffer.concat(
      pushes.flatMap((p) => (p.kind === "engine-output" && p.subscription === id ? [p.data] : [])),
    );
  return { docker, pushes, server, call, output };
}

describe("a workload's output served by the agent (readLogs, followLogs)", () => {
  it("pushes a read's output under its call's id, in pieces a push may carry, then answers", async () => {
    const { docker, pushes, call, output } = setUp();
    const big = Buffer.alloc(OUTPUT_CHUNK_BYTES * 2 + 10, 7);
    docker.read = async (onChunk) => {
      onChunk(Buffer.from("first "));
      onChunk(big);
    };
    expect(await call("r1", "readLogs", ["abc", { tail: 100 }])).toEqual({ ok: true, value: null });
    expect(output("r1")).toEqual(Buffer.concat([Buffer.from("first "), big]));
    const sizes = pushes.map((p) => (p.kind === "engine-output" ? p.data.length : -1));
    expect(sizes).toEqual([6, OUTPUT_CHUNK_BYTES, OUTPUT_CHUNK_BYTES, 10]);
  });

  it("refuses a tail longer than berth ever asks, or a follow without a start", async () => {
    const { docker, call } = setUp();
    for (const [method, args] of [
      ["readLogs", ["abc", { tail: 5_001 }]],
      ["readLogs", ["abc", { tail: 1, follow: true }]],
      ["followLogs", ["abc", {}]],
      ["followLogs", ["abc", { tail: -1 }]],
    ] as const) {
      expect(await call("x", method, [...args]), method).toMatchObject({
        ok: false,
        error: { code: "VALIDATION_FAILED" },
      });
    }
    expect(docker.calls).toEqual([]);
  });

  it("sends nothing of a read once its connection ended: the next connection's calls may reuse its id", async () => {
    const { docker, server, pushes, call } = setUp();
    let more!: () => void;
    let finished!: () => void;
    const readEnded = new Promise<void>((resolve) => {
      finished = resolve;
    });
    docker.read = async (onChunk) => {
      onChunk(Buffer.from("before"));
      await new Promise<void>((resolve) => {
        more = resolve;
      });
      onChunk(Buffer.from("after the end"));
      finished();
    };
    void call("r1", "readLogs", ["abc", { tail: 1 }]);
    await expect.poll(() => pushes.length).toBe(1);
    server.close();
    more();
    await readEnded;
    expect(pushes).toHaveLength(1);
  });

  it("sends nothing more of a read the API server cancelled (it stopped waiting for it)", async () => {
    const { docker, server, pushes, call } = setUp();
    let more!: () => void;
    let finished!: () => void;
    const readEnded = new Promise<void>((resolve) => {
      finished = resolve;
    });
    docker.read = async (onChunk) => {
      onChunk(Buffer.from("before"));
      await new Promise<void>((resolve) => {
        more = resolve;
      });
      onChunk(Buffer.from("after the cancel"));
      finished();
    };
    void call("r1", "readLogs", ["abc", { tail: 1 }]);
    await expect.poll(() => pushes.length).toBe(1);
    server.cancel({ id: "r1" });
    more();
    await readEnded;
    expect(pushes).toHaveLength(1);
  });

  it("follows output as it comes, until cancelled, and tells nothing more", async () => {
    const { docker, pushes, server, call, output } = setUp();
    expect(await call("f1", "followLogs", ["abc", { sinceMs: 1_000 }])).toEqual({ ok: true, value: null });
    expect(server.subscriptions).toBe(1);
    const follow = docker.follows[0]!;
    follow.onChunk(Buffer.from("line one\n"));
    follow.onChunk(Buffer.from("line two\n"));
    expect(output("f1").toString()).toBe("line one\nline two\n");
    server.cancel({ id: "f1" });
    expect(follow.closed).toBe(true);
    expect(server.subscriptions).toBe(0);
    await Promise.resolve();
    expect(pushes.filter((p) => p.kind === "engine-events-ended")).toEqual([]);
  });

  it("tells the API server when a follow ends by itself (the workload stopped)", async () => {
    const { docker, pushes, server, call } = setUp();
    await call("f1", "followLogs", ["abc", { tail: 10 }]);
    docker.follows[0]!.end();
    await expect
      .poll(() => pushes.filter((p) => p.kind === "engine-events-ended"))
      .toEqual([{ kind: "engine-events-ended", subscription: "f1" }]);
    expect(server.subscriptions).toBe(0);
  });

  it("closes every follow when its connection ends", async () => {
    const { docker, server, call } = setUp();
    await call("f1", "followLogs", ["abc", { tail: 10 }]);
    await call("f2", "followLogs", ["abc", { tail: 10 }]);
    server.close();
    expect(docker.follows.map((f) => f.closed)).toEqual([true, true]);
  });
});
