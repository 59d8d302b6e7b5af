import type { FastifyInstance } from "fastify";
import type { EngineMonitor } from "../docker/engine-monitor.ts";

/** `GET /healthz`: 200 with the engine's version when all is well, 503 with the reason when degraded. */
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
}
