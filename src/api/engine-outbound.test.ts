import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { type EngineConnection, EngineOutbound } from "./engine-outbound.ts";

/** A TCP socket as the outbound reads it: what Node still holds, a close, a reset. */
class FakeTcp extends EventEmitter {
  writableLength = 0;
  reset = false;
  destroyed = false;
  resetAndDestroy(): this {
    this.reset = true;
    this.destroyed = true;
    this.emit("close");
    return this;
  }
}

/** An engine.io connection on polling whose current GET goes out on `tcp`. */
class FakePollingConn extends EventEmitter implements EngineConnection {
  transport: { res: { socket: FakeTcp } | null } = { res: null };
  closed = false;
  close(): void {
    this.closed = true;
  }
  /** Queues `data`, then answers a GET on `tcp` with it. */
  poll(tcp: FakeTcp, data: string): void {
    const packet = { data };
    this.emit("packetCreate", packet);
    this.transport.res = { socket: tcp };
    this.emit("flush", [packet]);
    this.transport.res = null;
  }
}

describe("EngineOutbound on polling", () => {
  it("counts the latest poll response of each TCP connection until it closes", () => {
    const conn = new FakePollingConn();
    const outbound = new EngineOutbound(conn);
    const a = new FakeTcp();
    const b = new FakeTcp();
    conn.poll(a, "x".repeat(1000));
    expect(outbound.bufferedBytes()).toBe(1002);
    // The next answer on the same connection means the client read the one before.
    conn.poll(a, "x".repeat(10));
    expect(outbound.bufferedBytes()).toBe(12);
    // A fresh connection per GET adds up.
    conn.poll(b, "x".repeat(500));
    expect(outbound.bufferedBytes()).toBe(514);
    // What Node still holds counts when it is more (a client that pipelines without reading).
    a.writableLength = 5000;
    expect(outbound.bufferedBytes()).toBe(5502);
    b.emit("close");
    expect(outbound.bufferedBytes()).toBe(5000);
  });

  it("resets the poll connections when it terminates, even after it stopped watching", () => {
    const conn = new FakePollingConn();
    const outbound = new EngineOutbound(conn);
    const a = new FakeTcp();
    conn.poll(a, "x".repeat(100));
    outbound.close();
    // No listener is left on a keep-alive connection that may carry other engine connections' polls.
    expect(a.listenerCount("close")).toBe(0);
    outbound.terminate();
    expect(conn.closed).toBe(true);
    expect(a.reset).toBe(true);
  });
});
