import { Adapter, type BroadcastOptions, SessionAwareAdapter } from "socket.io-adapter";
import { TRANSIENT_EVENTS } from "./telemetry-streams.ts";

/**
 * Packets kept for connection-state recovery at most, across all connections.
 * Socket.IO keeps one shared list of every stored packet for the whole
 * recovery window (two minutes, trimmed once a minute), whether anyone is
 * disconnected or not; what remains in it is status and health changes and
 * activity entries (a few hundred bytes each), so this holds a few MiB at
 * most. A client away while more than this was pushed is not recovered: it
 * starts a fresh session and catches up with `activity:history afterId`.
 */
export const MAX_RECOVERY_PACKETS = 10_000;

/** Socket.IO's packet as the adapter sees it: `data[0]` is the event name. */
interface AdapterPacket {
  type: number;
  data?: unknown[];
  id?: number;
}

/**
 * Socket.IO's in-memory session-aware adapter, with two changes: telemetry
 * (TRANSIENT_EVENTS) goes out like any packet but is never stored for
 * recovery, and the store is capped at MAX_RECOVERY_PACKETS. Before this, a
 * workload sending 20,000 messages a second to one subscriber filled the
 * shared list with millions of packets that lived for minutes.
 *
 * Not Socket.IO's `volatile` flag: that discards a packet whenever the
 * transport is busy sending the previous batch, so a burst of messages in
 * one turn of the event loop would lose all but the first, even for a client
 * that reads everything.
 */
export class RecoveryAdapter extends SessionAwareAdapter {
  override broadcast(packet: AdapterPacket, opts: BroadcastOptions): void {
    const event = packet.data?.[0];
    if (typeof event === "string" && TRANSIENT_EVENTS.has(event)) {
      // The plain adapter's broadcast: encode once, write to each socket, store nothing.
      Adapter.prototype.broadcast.call(this, packet, opts);
      return;
    }
    super.broadcast(packet, opts);
    this.#trim();
  }

  /**
   * Deletes the session kept for `pid`. Socket.IO's in-memory adapter keeps a
   * session after restoring it, until its two minutes are over; a connection
   * recovered once and then ended for good (forgetWhenEndedForGood) must not
   * be restored from it.
   */
  forgetSession(pid: string): void {
    (this as unknown as { sessions: Map<string, unknown> }).sessions.delete(pid);
  }

  /** How many packets are stored for recovery now (for tests and metrics). */
  get storedPackets(): number {
    return this.#packets().length;
  }

  #trim(): void {
    const packets = this.#packets();
    // Trimmed in steps of a tenth, so that the splice's cost is paid once per thousand packets, not on each.
    if (packets.length > MAX_RECOVERY_PACKETS + MAX_RECOVERY_PACKETS / 10) {
      packets.splice(0, packets.length - MAX_RECOVERY_PACKETS);
    }
  }

  /**
   * The adapter's private list (socket.io-adapter 2.5 names it `packets`); a
   * test fails should an upgrade rename it, rather than the cap silently going.
   */
  #packets(): unknown[] {
    return (this as unknown as { packets: unknown[] }).packets;
  }
}
