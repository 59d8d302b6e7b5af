import { Server } from "socket.io";
import { Adapter, type BroadcastOptions } from "socket.io-adapter";
import { describe, expect, it } from "vitest";
import { keepTelemetryLocal } from "./local-telemetry.ts";

/** A cluster adapter's stand-in: records each broadcast's event and whether it was to stay on this server. */
class RecordingAdapter extends Adapter {
  readonly sent: Array<{ event: unknown; local: boolean }> = [];
  override broadcast(packet: { type: number; data?: unknown[] }, opts: BroadcastOptions): void {
    this.sent.push({ event: packet.data?.[0], local: opts.flags?.local === true });
    super.broadcast(packet, opts);
  }
}

describe("keepTelemetryLocal", () => {
  function server(): { io: Server; adapter: RecordingAdapter } {
    const io = new Server({
      adapter: keepTelemetryLocal(function recording(nsp) {
        return new RecordingAdapter(nsp);
      }),
    });
    return { io, adapter: io.of("/").adapter as unknown as RecordingAdapter };
  }

  it("keeps telemetry and progress steps on this server, and sends status changes and activity to the cluster", () => {
    const { io, adapter } = server();
    io.to("owner:alice").emit("container:status_changed", { id: "C1" });
    io.emit("activity_log", { id: 1 });
    io.to("messages:C1").emit("container:message", { id: "C1", data: 1 });
    io.emit("container:log", { id: "C1", text: "x" });
    io.emit("container:resource_usage", { id: "C1" });
    io.emit("containers:resource_usage", { ts: 1, samples: [] });
    io.emit("container:dropped", { id: "C1", stream: "logs", count: 1 });
    io.emit("container:progress", { opId: "op", id: "C1", step: "stop", status: "started" });
    expect(adapter.sent).toEqual([
      { event: "container:status_changed", local: false },
      { event: "activity_log", local: false },
      { event: "container:message", local: true },
      { event: "container:log", local: true },
      { event: "container:resource_usage", local: true },
      { event: "containers:resource_usage", local: true },
      { event: "container:dropped", local: true },
      { event: "container:progress", local: true },
    ]);
  });
});
