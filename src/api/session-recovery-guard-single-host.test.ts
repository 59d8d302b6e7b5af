import { Server } from "socket.io";
import { describe, expect, it } from "vitest";
import type { SocketData } from "./contract.ts";
import { RecoveryAdapter } from "./recovery-adapter.ts";
import { guardSessionRecovery } from "./session-recovery-guard.ts";

type Stored = { disconnectedAt: number };

describe("guardSessionRecovery with single-host's in-memory adapter", () => {
  // Without the fix: the refusal writes the session back (for Redis, whose look-up consumed it), and the
  // in-memory adapter stamps every write as a new disconnect, so each refused try restarts the
  // session's two minutes. A client retrying with a revoked token keeps its session alive for ever.
  it("leaves a refused session's expiry as it was", async () => {
    const io = new Server({
      adapter: RecoveryAdapter,
      connectionStateRecovery: { maxDisconnectionDuration: 120_000 },
    });
    const nsp = io.of("/");
    const adapter = nsp.adapter as unknown as {
      sessions: Map<string, Stored>;
      packets: Array<{ id: string }>;
      persistSession: RecoveryAdapter["persistSession"];
    };
    nsp._add = (async () => undefined) as unknown as typeof nsp._add; // stands for socket.io's own: nothing to build here
    guardSessionRecovery(nsp as never, () => false);
    io.emit("container:status_changed" as never, {} as never); // a packet stored, whose id is an offset
    const offset = adapter.packets[0]?.id;
    expect(offset).toBeDefined();
    const data = { owner: "alice", admin: false, tokenDigest: Buffer.alloc(32) } as SocketData;
    adapter.persistSession({ sid: "sid-1", pid: "pid-1", rooms: ["owner:alice"], data });
    const longAgo = Date.now() - 110_000;
    const stored = adapter.sessions.get("pid-1");
    if (!stored) throw new Error("no session stored");
    stored.disconnectedAt = longAgo;

    await nsp._add({} as never, { token: "revoked", pid: "pid-1", offset } as never, () => undefined);

    expect(adapter.sessions.get("pid-1")?.disconnectedAt).toBe(longAgo);
    await nsp.adapter.close(); // (io.close() would close an engine this server, without an HTTP server, has not)
  });
});
