import type { FastifyInstance } from "fastify";
import type { HandshakeLimiter } from "../auth/handshake-limiter.ts";
import type { TokenStore } from "../auth/token-store.ts";
import type { BerthMetrics } from "../metrics/berth-metrics.ts";

export interface MetricsRouteOptions {
  metrics: BerthMetrics;
  /** The tokens in force: only the admin's opens /metrics, unless `public`. */
  tokens: TokenStore;
  /** BERTH_METRICS_PUBLIC: anyone who reaches berth may read the metrics. */
  public: boolean;
  /**
   * The handshakes' limiter (BERTH_HANDSHAKES_PER_MINUTE), shared: a failed try here takes from the same
   * budget per address as a Socket.IO handshake, so that /metrics adds no guesses at the admin's token.
   */
  limiter: HandshakeLimiter;
}

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

/**
 * `GET /metrics`: every metric in the Prometheus text format. Protected by
 * the admin token (`Authorization: Bearer <token>`) unless public: a missing,
 * wrong or owner's token gets the same 401, which says how to authenticate and
 * nothing else. A failed try takes one from the address's handshake budget
 * (the same limiter as Socket.IO's handshakes): the route is no second budget of
 * guesses at the admin's token. The admin's token itself is never counted nor
 * refused, so that an attacker behind the same proxy as Prometheus cannot
 * starve its scrapes by guessing; an address out of budget gets 429 for
 * anything else.
 *
 * @example
 * registerMetricsRoute(app, { metrics, tokens, public: false, limiter: handshakes });
 */
export function registerMetricsRoute(app: FastifyInstance, options: MetricsRouteOptions): void {
  const { metrics, tokens } = options;
  const { limiter } = options;
  app.get("/metrics", async (request, reply) => {
    if (!options.public) {
      const token = BEARER.exec(request.headers.authorization ?? "")?.[1];
      if (tokens.authenticate(token)?.identity.kind !== "admin") {
        // Only a failed try is counted (a SHA-256 and a constant-time compare cost less than the bucket's lookup).
        if (!limiter.allow(request.socket.remoteAddress)) {
          return reply.code(429).header("retry-after", "60").send({ error: "TOO_MANY_REQUESTS" });
        }
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
