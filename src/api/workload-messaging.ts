/**
 * What the API asks of the channel to the workloads: a one-way message or a
 * request to the process inside a container, and what that process sends
 * unasked. Declared here, as the handlers need it, and filled by the
 * composition root with the channel hub (SocketCommunicationHandler), so that
 * no handler depends on how the channel is made. The handlers resolve the
 * container and check the caller may reach it before they call; `id` is
 * always berth's id of a container the caller may see.
 */
export interface WorkloadMessaging {
  /** Resolves once the message is on its way; rejects with the channel's coded errors (CHANNEL_NOT_CONNECTED, CHANNEL_BUSY, …). */
  send(id: string, data: unknown): Promise<void>;
  /** The workload's answer; never hangs (a timeout, capped by the server, or the signal ends it). */
  request(id: string, data: unknown, opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<unknown>;
  /** 'message': the workload sent `data` unasked, at `ts` (epoch ms). */
  on(event: "message", listener: (id: string, data: unknown, ts: number) => void): unknown;
  off(event: "message", listener: (id: string, data: unknown, ts: number) => void): unknown;
}
