import type { FastifyInstance } from "fastify";
import { asyncApiJson } from "./asyncapi.ts";

/** Whether the container engine answers, as `/healthz` reports it. */
export type EngineHealthStatus =
  | { state: "up"; version: string; apiVersion: string }
  | { state: "down"; reason: string; since: number };

/**
 * What `/healthz` asks of whoever watches the engine (the EngineMonitor, given
 * by the composition root): the state last seen, and a fresh look when that
 * was down — so that a health check right after the engine came back does not
 * wait for the next probe to say so.
 */
export interface EngineHealth {
  readonly status: EngineHealthStatus;
  check(): Promise<EngineHealthStatus>;
}

/**
 * `GET /healthz`: 200 with the engine's version when all is well, 503 with the reason when degraded.
 * `GET /asyncapi.json`: the AsyncAPI 3 document of the Socket.IO API, as docs/asyncapi.json holds it.
 */
export function registerHttpRoutes(app: FastifyInstance, engine: EngineHealth): void {
  app.get("/healthz", async (_request, reply) => {
    const status = engine.status.state === "up" ? engine.status : await engine.check();
    if (status.state === "up") {
      return reply
        .code(200)
        .send({ status: "ok", engine: { version: status.version, apiVersion: status.apiVersion } });
    }
    return reply.code(503).send({ status: "degraded", reason: status.reason, since: status.since });
  });

  // Built on the first request, then kept: the document is the same for everyone and for berth's whole life.
  let asyncApi: string | undefined;
  app.get("/asyncapi.json", async (_request, reply) => {
    asyncApi ??= asyncApiJson();
    return reply.code(200).type("application/json; charset=utf-8").send(asyncApi);
  });
}
