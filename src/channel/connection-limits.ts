/** The bounds every workload connection keeps (from Config, the same for every container). */
export interface ConnectionLimits {
  maxFrameBytes: number;
  maxQueuedBytes: number;
  helloTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** Silent heartbeat intervals in a row after which the peer is dead. */
  heartbeatMisses: number;
  badFrameLimit: number;
  badFrameWindowMs: number;
  /** How long a connection closed with an error frame may take to read it before it is cut. */
  lingerMs: number;
  /** Config BERTH_CHANNEL_MESSAGE_RATE / _BYTES_RATE: what a workload may send unasked, a second (0: no limit). */
  messageRate: number;
  messageBytesRate: number;
  /** Bytes read from one socket before it lets the others have a turn. */
  readSliceBytes: number;
}
