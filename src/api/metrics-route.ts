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
 * nothing else. Every try takes one from the address's handshake budget
 * (the same limiter as Socket.IO's handshakes), so the route is no second
 * budget of guesses at the admin's token, and an address out of budget gets
 * 429 whatever it presents. A scrape every 15 s is 4 a minute of the 120;
 * Prometheus should not share an address (a proxy) with untrusted clients.
 *
 * @example
 * registerMetricsRoute(app, { metrics, tokens, public: false, limiter: handshakes });
 */
export function registerMetricsRoute(app: FastifyInstance, options: MetricsRouteOptions): void {
  const { metrics, tokens } = options;
  const { limiter } = options;
  app.get("/metrics", async (request, reply) => {
    if (!options.public) {
      // Every try takes from the address's budget before the token is looked at, as a handshake does:
      // were the right token let through past the budget, a guesser out of budget would still be told
      // a right guess (200) from a wrong one (429) — a full-speed oracle for the admin's token.
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
