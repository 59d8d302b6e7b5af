import { z } from "zod";
import type { ClientEvent, ResultMap, ServerToClientEvents } from "#protocol";
import { ActivityEntrySchema, ActivityResults } from "./activity-schemas.ts";
import { ChannelResults, MessageEvent } from "./channel-schemas.ts";
import { ContainerResults, ProgressEvent, StatusChangedEvent } from "./container-schemas.ts";
import { ImageCheckResults } from "./image-check-schemas.ts";
import {
  DroppedEvent,
  HealthChangedEvent,
  LogEvent,
  MonitoringResults,
  ResourceOverviewEvent,
  ResourceUsageEvent,
} from "./monitoring-schemas.ts";
import type { AllTrue, Same } from "./same-type.ts";
import { ServerInfoResults } from "./server-info-schemas.ts";
import { UpdateResults } from "./update-schemas.ts";
import { EpochMs } from "./wire-primitives.ts";

/**
 * zod schemas of what berth sends: every acknowledgement's `data`, the error
 * envelope and every pushed event. The server does not validate its own
 * answers with them; they are what the API document (asyncapi.ts) is
 * generated from. What each of them is, is declared once in the protocol
 * (`#protocol`); the schemas are written by feature (container-, channel-,
 * monitoring-, update-, activity-, server-info-, image-check- and
 * wire-error-schemas.ts), each with the checks that its shapes and the
 * protocol's types agree. Here they come together: the checks at the end of
 * this file fail `tsc` when an event's schema and the protocol's type differ
 * in either direction, or when an event of the protocol has no schema.
 */

/** The `data` of each event's successful acknowledgement. */
export const ResultSchemas = {
  ...ContainerResults,
  ...ChannelResults,
  ...MonitoringResults,
  ...UpdateResults,
  ...ActivityResults,
  ...ServerInfoResults,
  ...ImageCheckResults,
} as const satisfies Record<ClientEvent, z.ZodType>;

/** The payload of each server→client event, in the order the API document lists them. */
export const EventSchemas = {
  "container:resource_usage": ResourceUsageEvent,
  "containers:resource_usage": ResourceOverviewEvent,
  "container:log": LogEvent,
  "container:message": MessageEvent,
  "container:dropped": DroppedEvent,
  "container:health_changed": HealthChangedEvent,
  "container:status_changed": StatusChangedEvent,
  "container:progress": ProgressEvent,
  activity_log: ActivityEntrySchema,
  "session:revoked": z.object({ reason: z.literal("token_revoked"), ts: EpochMs }),
} as const satisfies Record<keyof ServerToClientEvents, z.ZodType>;

export type ResultSchemasMatchContract = AllTrue<{
  [E in ClientEvent]: Same<z.output<(typeof ResultSchemas)[E]>, ResultMap[E]>;
}>;
export type EventSchemasMatchContract = AllTrue<{
  [E in keyof ServerToClientEvents]: Same<
    z.output<(typeof EventSchemas)[E]>,
    Parameters<ServerToClientEvents[E]>[0]
  >;
}>;
