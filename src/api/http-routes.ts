import type { FastifyInstance } from "fastify";
import type { EngineMonitor } from "../docker/engine-monitor.ts";
import { asyncApiJson } from "./asyncapi.ts";

/**
 * `GET /healthz`: 200 with the engine's version when all is well, 503 with the reason when degraded.
 * `GET /asyncapi.json`: the AsyncAPI 3 document of the Socket.IO API, as docs/asyncapi.json holds it.
 */
export function registerHttpRoutes(app: FastifyInstance, engine: EngineMonitor): void {
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
