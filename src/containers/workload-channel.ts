import type { ChannelInfo } from "#protocol";

/**
 * What the ContainerManager needs of the Unix-socket channel: a socket per
 * container that lives and dies with it, and the moment its workload says
 * hello. The SocketCommunicationHandler implements it.
 */
export interface WorkloadChannel {
  open(id: string, owner: { uid: number; gid: number }): Promise<void>;
  close(id: string): Promise<void>;
  status(id: string): ChannelInfo;
  /** Resolves at the next completed handshake (`fresh`) or at once if one is live. */
  waitForHello(id: string, opts?: { signal?: AbortSignal; fresh?: boolean }): Promise<unknown>;
  /** Why the latest handshake was refused (`at`: when), unless a good one came after it. */
  lastBadHello(id: string): { reason: string; at: number } | undefined;
  /** 'bad_hello' fires when a workload's handshake is refused (wrong or missing hello). */
  on(event: "bad_hello", listener: (id: string, reason: string) => void): unknown;
  off(event: "bad_hello", listener: (id: string, reason: string) => void): unknown;
}
