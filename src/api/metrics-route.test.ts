import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { HandshakeLimiter } from "../auth/handshake-limiter.ts";
import { TokenStore } from "../auth/token-store.ts";
import { BerthMetrics } from "../metrics/berth-metrics.ts";
import { registerMetricsRoute } from "./metrics-route.ts";

const ADMIN = "admin-token-0123456789";
const ALICE = "alice-token-0123456789";

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function serve(
  options: { public?: boolean; perMinute?: number; limiter?: HandshakeLimiter } = {},
): FastifyInstance {
  app = Fastify({ logger: false });
  registerMetricsRoute(app, {
    metrics: new BerthMetrics({
      perContainer: false,
      version: "0.0.0",
      sources: {
        containers: async () => [],
        connectedClients: () => 0,
        connectedWorkloads: () => 0,
        listeners: () => 0,
      },
    }),
    tokens: new TokenStore({ tokens: new Map([["alice", ALICE]]), adminToken: ADMIN }),
    public: options.public ?? false,
    limiter: options.limiter ?? new HandshakeLimiter({ perMinute: options.perMinute ?? 0 }),
  });
  return app;
}

const get = (server: FastifyInstance, authorization?: string) =>
  server.inject({ method: "GET", url: "/metrics", headers: authorization ? { authorization } : {} });

describe("GET /metrics", () => {
  it("answers the admin's bearer token with the Prometheus text format", async () => {
    const res = await get(serve(), `Bearer ${ADMIN}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain("# TYPE berth_operations_total counter");
  });

  it("refuses no token, a wrong one, an owner's and a token in another scheme with the same 401", async () => {
    const server = serve();
    const answers = await Promise.all(
      [undefined, "Bearer not-a-token-at-all", `Bearer ${ALICE}`, `Basic ${ADMIN}`, ADMIN].map((h) =>
        get(server, h),
      ),
    );
    for (const res of answers) {
      expect(res.statusCode).toBe(401);
      expect(res.headers["www-authenticate"]).toBe('Bearer realm="berth"');
      expect(res.body).toBe(answers[0]?.body);
      expect(res.body).not.toContain("berth_");
    }
  });

  it("answers anyone when public", async () => {
    const res = await get(serve({ public: true }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("berth_containers");
  });

  it("counts each failed try against the address's handshake budget, so that it is no oracle for the admin's token", async () => {
    const server = serve({ perMinute: 3 });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await get(server, "Bearer guess-number-000")).statusCode);
    expect(codes).toEqual([401, 401, 401, 429]);
    expect((await get(server)).statusCode).toBe(429);
    expect((await get(server, `Bearer ${ALICE}`)).statusCode).toBe(429);
  });

  it("shares one budget with the handshakes: failed tries here leave fewer handshakes, and the reverse", async () => {
    const handshakes = new HandshakeLimiter({ perMinute: 4 });
    const server = serve({ limiter: handshakes });
    expect((await get(server, "Bearer guess-number-000")).statusCode).toBe(401);
    expect((await get(server, "Bearer guess-number-001")).statusCode).toBe(401);
    // The address inject() uses: the same key as a handshake from it.
    expect(handshakes.allow("127.0.0.1")).toBe(true);
    expect(handshakes.allow("127.0.0.1")).toBe(true);
    expect(handshakes.allow("127.0.0.1")).toBe(false);
    expect((await get(server, "Bearer guess-number-002")).statusCode).toBe(429);
  });

  it("takes every try from the budget, the admin's too: out of budget, a right guess looks like a wrong one", async () => {
    const handshakes = new HandshakeLimiter({ perMinute: 3 });
    const server = serve({ limiter: handshakes });
    expect((await get(server, `Bearer ${ADMIN}`)).statusCode).toBe(200);
    expect((await get(server, "Bearer guess-number-000")).statusCode).toBe(401);
    expect((await get(server, "Bearer guess-number-001")).statusCode).toBe(401);
    expect((await get(server, "Bearer guess-number-002")).statusCode).toBe(429);
    expect((await get(server, `Bearer ${ADMIN}`)).statusCode).toBe(429);
  });
});
