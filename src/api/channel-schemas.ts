import { z } from "zod";
import type { ClientEvent } from "#protocol";
import { EpochMs, Id } from "./wire-primitives.ts";

/** What berth sends about the channel to a workload: its state, the answers to channel calls, its messages. */

/** A container's channel now, in its ContainerInfo. */
export const ChannelInfoSchema = z.object({
  connected: z.boolean(),
  connectedAt: EpochMs.optional(),
  lastSeenAt: EpochMs.optional(),
  rttMs: z.number().optional(),
  protocol: z.number().optional(),
});

export const ChannelResults = {
  "container:send": z.object({ id: Id }),
  "container:request": z.unknown().describe("The workload's answer: any JSON value."),
  "container:subscribe": z.object({ id: Id, subscribed: z.literal(true) }),
  "container:unsubscribe": z.object({ id: Id, subscribed: z.literal(false) }),
} as const satisfies Partial<Record<ClientEvent, z.ZodType>>;

/** `container:message`: what a workload sent, to the connections subscribed to it. */
export const MessageEvent = z.object({ id: Id, data: z.unknown(), ts: EpochMs });
