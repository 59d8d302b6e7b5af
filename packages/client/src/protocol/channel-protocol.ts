/**
 * The version of the channel protocol that berth and the process inside a
 * container speak over its Unix socket (docs/protocol.md): what a workload's
 * hello must name, and what `server:info` reports as `channelProtocol`. It
 * lives in the contract, which imports nothing, so that the server's channel
 * and its API read one number without either importing the other.
 */
export const CHANNEL_PROTOCOL_VERSION = 1;
