import { Server } from "socket.io";
import { describe, expect, it } from "vitest";
import { MAX_RECOVERY_PACKETS, RecoveryAdapter } from "./recovery-adapter.ts";

describe("RecoveryAdapter", () => {
  // A server attached to nothing: emits go through the adapter to no socket (its recovery timer is unref'd).
  function server(): { io: Server; adapter: RecoveryAdapter } {
    const io = new Server({ connectionStateRecovery: {}, adapter: RecoveryAdapter });
    return { io, adapter: io.of("/").adapter as unknown as RecoveryAdapter };
  }

  it("keeps status changes and activity for recovery, but no telemetry and no progress steps", () => {
    const { io, adapter } = server();
    io.emit("container:status_changed", { id: "C1" });
    io.emit("activity_log", { id: 1 });
    io.to("messages:C1").emit("container:message", { id: "C1", data: 1 });
    io.emit("container:log", { id: "C1", text: "x" });
    io.emit("container:resource_usage", { id: "C1" });
    io.emit("containers:resource_usage", { ts: 1, samples: [] });
    io.emit("container:dropped", { id: "C1", stream: "logs", count: 1 });
    io.emit("container:progress", { opId: "op", id: "C1", step: "stop", status: "started" });
    expect(adapter.storedPackets).toBe(2);
  });

  it(`keeps at most about ${MAX_RECOVERY_PACKETS} packets`, () => {
    const { io, adapter } = server();
    for (let i = 0; i < 3 * MAX_RECOVERY_PACKETS; i++) io.emit("activity_log", { id: i });
    expect(adapter.storedPackets).toBeGreaterThanOrEqual(MAX_RECOVERY_PACKETS);
    expect(adapter.storedPackets).toBeLessThanOrEqual(MAX_RECOVERY_PACKETS * 1.1);
  });
});
