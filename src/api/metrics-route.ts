import type { FastifyInstance } from "fastify";
import { HandshakeLimiter } from "../auth/handshake-limiter.ts";
import type { TokenStore } from "../auth/token-store.ts";
import type { BerthMetrics } from "../metrics/berth-metrics.ts";

export interface MetricsRouteOptions {
  metrics: BerthMetrics;
  /** The tokens in force: only the admin's opens /metrics, unless `public`. */
  tokens: TokenStore;
  /** BERTH_METRICS_PUBLIC: anyone who reaches berth may read the metrics. */
  public: boolean;
  /** Requests per remote address per minute while protected (BERTH_HANDSHAKES_PER_MINUTE; 0: no limit). */
  perMinute: number;
}

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

/**
 * `GET /metrics`: every metric in the Prometheus text format. Protected by
 * the admin token (`Authorization: Bearer <token>`) unless public: a missing,
 * wrong or owner's token gets the same 401, which says how to authenticate and
 * nothing else. Each address has as many tries a minute as handshakes, so the
 * route is no faster way to guess the admin's token than Socket.IO; a scraper
 * (one request every 15 s or so) is far below it.
 */
export function registerMetricsRoute(app: FastifyInstance, options: MetricsRouteOptions): void {
  const { metrics, tokens } = options;
  const limiter = new HandshakeLimiter({ perMinute: options.public ? 0 : options.perMinute });
  app.get("/metrics", async (request, reply) => {
    if (!options.public) {
      if (!limiter.allow(request.socket.remoteAddress)) {
        return reply.code(429).header("retry-after", "60").send({ error: "TOO_MANY_REQUESTS" });
      }
      const token = BEARER.exec(request.headers.authorization ?? "")?.[1];
      if (tokens.authenticate(token)?.identity.kind !== "admin") {
        return reply.code(401).header("www-authenticate", 'Bearer realm="berth"').send({
          error: "UNAUTHORIZED",
          message: "/metrics needs the admin token: Authorization: Bearer <token>.",
        });
      }
    }
    const text = await metrics.scrape();
    return reply.code(200).header("cache-control", "no-store").type(metrics.contentType).send(text);
  });
}
