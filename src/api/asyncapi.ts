import { z } from "zod";
import type { ClientEvent, ServerToClientEvents } from "#protocol";
import { MAX_TOKEN_LENGTH, MIN_TOKEN_LENGTH } from "../auth/owner-name.ts";
import { DEFAULT_HOST, DEFAULT_PORT } from "../config/sections/server-config.ts";
import { BERTH_VERSION } from "../version.ts";
import { ContainerInfoSchema } from "./container-schemas.ts";
import { RequestSchemas } from "./contract.ts";
import { CLIENT_EVENT_DESCRIPTIONS, SERVER_EVENT_DESCRIPTIONS } from "./event-descriptions.ts";
import { jsonSchemaOverrides, type OverrideOptions } from "./json-schema-overrides.ts";
import { ResourceUsageSchema } from "./monitoring-schemas.ts";
import { ErrorEnvelopeSchema, WireErrorSchema } from "./wire-error-schemas.ts";
import { EventSchemas, ResultSchemas } from "./wire-schemas.ts";

type ServerEvent = keyof ServerToClientEvents;
type JsonObject = Record<string, unknown>;

/** The handshake's `auth`: where a client puts its token. */
const HandshakeAuth = z
  .object({ token: z.string().min(MIN_TOKEN_LENGTH).max(MAX_TOKEN_LENGTH) })
  .describe("The Socket.IO handshake's `auth` object: `io(url, { auth: { token } })`.");

/** A component key for an event name: AsyncAPI keys allow letters, digits, '.', '-' and '_' only. */
export function eventKey(event: string): string {
  return event.replace(/:/g, ".");
}

/**
 * berth's Socket.IO API as an AsyncAPI 3 document, generated from the
 * contract: the zod schemas the server validates requests with
 * (`RequestSchemas`), the schemas of its answers and pushed events
 * (wire-schemas.ts) and the error registry. Served at `GET /asyncapi.json`
 * and written to docs/asyncapi.json by `npm run docs:asyncapi`.
 *
 * The document describes berth (the server): a client→server event is an
 * operation berth `receive`s, answered through its acknowledgement (the
 * operation's `reply`); a pushed event is one berth `send`s. Every message
 * goes over the one Socket.IO namespace, `/`.
 */
export function buildAsyncApiDocument(options: OverrideOptions = {}): JsonObject {
  const clientEvents = Object.keys(RequestSchemas) as ClientEvent[];
  const serverEvents = Object.keys(EventSchemas) as ServerEvent[];

  const registry = z.registry<{ id: string }>();
  registry.add(ContainerInfoSchema, { id: "ContainerInfo" });
  registry.add(ResourceUsageSchema, { id: "ResourceUsage" });
  registry.add(WireErrorSchema, { id: "WireError" });
  registry.add(ErrorEnvelopeSchema, { id: "ErrorEnvelope" });
  registry.add(HandshakeAuth, { id: "HandshakeAuth" });
  for (const event of clientEvents) {
    // describe() makes a copy, so that a schema shared by several events (`{ id }`) is one component per event.
    registry.add(RequestSchemas[event].describe(CLIENT_EVENT_DESCRIPTIONS[event]), {
      id: `${eventKey(event)}.request`,
    });
    const ok = z.object({ ok: z.literal(true), data: ResultSchemas[event] });
    registry.add(z.union([ok, ErrorEnvelopeSchema]).describe(`The acknowledgement of \`${event}\`.`), {
      id: `${eventKey(event)}.ack`,
    });
  }
  for (const event of serverEvents) {
    registry.add(EventSchemas[event].describe(SERVER_EVENT_DESCRIPTIONS[event]), { id: eventKey(event) });
  }
  const { schemas } = z.toJSONSchema(registry, {
    target: "draft-07",
    io: "input",
    uri: (id) => `#/components/schemas/${id}`,
    ...jsonSchemaOverrides(options),
  });
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }

  const ref = (path: string) => ({ $ref: path });
  const messages: JsonObject = {};
  const operations: JsonObject = {};
  for (const event of clientEvents) {
    const key = eventKey(event);
    messages[`${key}.request`] = {
      name: event,
      title: event,
      summary: CLIENT_EVENT_DESCRIPTIONS[event],
      payload: ref(`#/components/schemas/${key}.request`),
    };
    messages[`${key}.ack`] = {
      name: `${event} acknowledgement`,
      title: `${event} acknowledgement`,
      summary: "`{ ok: true, data }`, or `{ ok: false, error }` with a code of docs/errors.md.",
      payload: ref(`#/components/schemas/${key}.ack`),
    };
    operations[key] = {
      action: "receive",
      title: event,
      summary: CLIENT_EVENT_DESCRIPTIONS[event],
      description: `Emit \`${event}\` with an acknowledgement callback (\`socket.emitWithAck("${event}", payload)\`); berth answers through the acknowledgement. An event sent without one is ignored.`,
      channel: ref("#/channels/root"),
      messages: [ref(`#/channels/root/messages/${key}.request`)],
      reply: { channel: ref("#/channels/root"), messages: [ref(`#/channels/root/messages/${key}.ack`)] },
    };
  }
  for (const event of serverEvents) {
    const key = eventKey(event);
    messages[key] = {
      name: event,
      title: event,
      summary: SERVER_EVENT_DESCRIPTIONS[event],
      payload: ref(`#/components/schemas/${key}`),
    };
    operations[key] = {
      action: "send",
      title: event,
      summary: SERVER_EVENT_DESCRIPTIONS[event],
      channel: ref("#/channels/root"),
      messages: [ref(`#/channels/root/messages/${key}`)],
    };
  }

  return {
    asyncapi: "3.1.0",
    info: {
      title: "berth",
      version: BERTH_VERSION,
      description:
        "berth's Socket.IO API: a self-hosted control plane that runs workloads in hardened Docker containers. Every client→server event is answered through its acknowledgement with `{ ok: true, data }` or `{ ok: false, error: { code, category, message, retryable, details? } }` (components.schemas.ErrorEnvelope; the codes are in docs/errors.md). Generated from berth's contract (src/api/contract.ts) by `npm run docs:asyncapi`; do not edit by hand.",
    },
    defaultContentType: "application/json",
    servers: {
      berth: {
        host: "{host}:{port}",
        protocol: "ws",
        pathname: "/socket.io/",
        title: "berth",
        description:
          "Socket.IO 4 (Engine.IO protocol 4) over websocket, default namespace `/`. Authenticate in the handshake: `io(url, { auth: { token } })` with an owner's or the admin's token (components.schemas.HandshakeAuth). A refused handshake gets `connect_error` with `data: { code, category, retryable, details? }` (`UNAUTHORIZED`, `TOO_MANY_CONNECTIONS`). Binary values (code files, archives) travel as Socket.IO binary attachments.",
        variables: { host: { default: DEFAULT_HOST }, port: { default: String(DEFAULT_PORT) } },
      },
    },
    channels: {
      root: {
        address: "/",
        title: "The default Socket.IO namespace",
        description: "Every event of berth's API; the message's `name` is the Socket.IO event name.",
        messages: Object.fromEntries(
          Object.keys(messages).map((k) => [k, ref(`#/components/messages/${k}`)]),
        ),
      },
    },
    operations,
    components: {
      schemas,
      messages,
    },
  };
}

/** The document as docs/asyncapi.json holds it: two-space indented, with a final newline. */
export function asyncApiJson(): string {
  return `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`;
}
