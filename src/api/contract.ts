import { z } from "zod";
import { type ClientEvent, CONTAINER_STATES, HEALTH_STATES, type Requests } from "#protocol";
import {
  CodeUpload,
  ContainerName,
  ContainerSpec,
  HealthCheck,
  JsonData,
} from "../containers/container-spec.ts";
import { ProgressRequest } from "../progress/progress-request.ts";
import type { Same } from "./same-type.ts";

/**
 * The server's side of berth's Socket.IO contract: the zod schema that
 * validates every client→server payload. What each payload is, its answer
 * and the pushed events are declared once, as plain types, in the protocol
 * (`#protocol`: packages/client/src/protocol), which the client SDK ships;
 * the check at the end of this file fails `tsc` when a schema here accepts
 * something other than what the protocol declares.
 */
const ContainerRef = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be a container id or name");

const ByRef = z.strictObject({ id: ContainerRef });

const TimeoutSec = z.number().int().min(0).max(600);

/**
 * An image as the engine names one: `[registry[:port]/]path[:tag][@sha256:…]`
 * (Docker's reference grammar, path components in lower case), or an image
 * id (`sha256:` and 64 hex digits). Checked here because `image:check` takes
 * an image that BERTH_ALLOWED_IMAGES need not list.
 */
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const IMAGE_REFERENCE = new RegExp(
  `^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?|sha256:[a-f0-9]{64})$`,
);
export const ImageReference = z
  .string()
  .min(1)
  .max(255)
  .regex(IMAGE_REFERENCE, "must be an image reference such as acme/bot:1.2 or registry.local:5000/bot");

export const RequestSchemas = {
  "container:create": ContainerSpec,
  "container:start": z.strictObject({ id: ContainerRef, waitReady: z.boolean().optional() }),
  "container:stop": z.strictObject({ id: ContainerRef, timeoutSec: TimeoutSec.optional() }),
  "container:restart": z.strictObject({
    id: ContainerRef,
    timeoutSec: TimeoutSec.optional(),
    waitReady: z.boolean().optional(),
    progress: ProgressRequest.optional(),
  }),
  "container:delete": ByRef,
  "container:status": z.strictObject({ id: ContainerRef, spec: z.boolean().optional() }),
  "container:list": z.strictObject({
    filter: z
      .strictObject({
        state: z.enum(CONTAINER_STATES).optional(),
        health: z.enum(HEALTH_STATES).optional(),
        namePrefix: z.string().max(63).optional(),
        label: z.string().min(1).max(1200).optional(),
      })
      .optional(),
    limit: z.number().int().min(1).max(500).optional(),
    cursor: z.string().max(200).optional(),
  }),
  "container:send": z.strictObject({ id: ContainerRef, data: JsonData }),
  "container:request": z.strictObject({
    id: ContainerRef,
    data: JsonData,
    timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  }),
  "container:subscribe": ByRef,
  "container:unsubscribe": ByRef,
  "container:update": z.strictObject({
    id: ContainerRef,
    code: CodeUpload,
    readyTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    healthCheck: HealthCheck.optional(),
    progress: ProgressRequest.optional(),
  }),
  "container:rollback": z.strictObject({
    id: ContainerRef,
    release: z.number().int().min(1).optional(),
    progress: ProgressRequest.optional(),
  }),
  "container:releases": ByRef,
  "container:stats": ByRef,
  "container:watch_stats": z.strictObject({
    id: ContainerRef,
    intervalMs: z.number().int().min(250).max(60_000).optional(),
  }),
  "container:unwatch_stats": ByRef,
  "containers:watch_stats": z.strictObject({
    intervalMs: z.number().int().min(250).max(60_000).optional(),
  }),
  "containers:unwatch_stats": z.strictObject({}),
  "container:stats_history": ByRef,
  "containers:stats_history": z.strictObject({}),
  "container:logs": z.strictObject({
    id: ContainerRef,
    tail: z.number().int().min(1).max(5_000).optional(),
    since: z.number().int().min(0).optional(),
  }),
  "container:follow_logs": z.strictObject({
    id: ContainerRef,
    tail: z.number().int().min(0).max(5_000).optional(),
  }),
  "container:unfollow_logs": ByRef,
  "activity:history": z.strictObject({
    containerId: ContainerRef.optional(),
    afterId: z.number().int().min(0).optional(),
    newest: z.boolean().optional(),
    limit: z.number().int().min(1).max(1000).optional(),
  }),
  "server:info": z.strictObject({}),
  "image:check": z.strictObject({ image: ImageReference, code: CodeUpload.optional() }),
} as const satisfies Record<ClientEvent, z.ZodType>;

/** `true` for every event whose schema takes exactly what the protocol declares (see same-type.ts). */
export type RequestSchemasMatchProtocol = AllTrue<{
  [E in ClientEvent]: Same<z.input<(typeof RequestSchemas)[E]>, Requests[E]>;
}>;
type AllTrue<T extends Record<ClientEvent, true>> = T;

// biome-ignore lint/complexity/noBannedTypes: no server-to-server events
export type InterServerEvents = {};

export interface SocketData {
  owner: string;
  admin: boolean;
  /** SHA-256 of the token the connection was made with: a recovered session must present the same one. */
  tokenDigest: Buffer;
}

export { ContainerName };
