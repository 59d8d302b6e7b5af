import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fastifyStatic } from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";

/**
 * The dashboard's Content-Security-Policy: no inline script or style, nothing
 * from another origin, and Socket.IO's WebSocket back to berth only: `'self'`
 * covers the same origin's ws:/wss: (CSP3), where a bare `ws: wss:` would let a
 * script (were one ever injected) open a socket to any host. Beyond the
 * usual set, `form-action 'none'`: the sign-in form is handled by the script,
 * and must never post the token anywhere by itself (were the script to fail).
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Where set-up builds the dashboard (scripts/build-dashboard.mjs); berth runs from its sources, beside it. */
export const DASHBOARD_DIR = fileURLToPath(new URL("../../packages/dashboard/dist", import.meta.url));

/** What `/` answers when set-up has not built the dashboard: how to build it, never a stack. */
export const DASHBOARD_NOT_BUILT =
  "berth's dashboard is not built. Run `npm run setup` in berth's folder (it builds packages/dashboard/dist), then reload this page.\n";

/** Hashed file names (Vite's `assets/name-hash.ext`): the content of a name never changes. */
const IMMUTABLE_MAX_AGE_MS = 365 * 24 * 3600 * 1000;

/**
 * Serves the dashboard that set-up built into `dir` (packages/dashboard/dist):
 * `GET /` the page, revalidated on every load (`no-cache`) so that a new
 * build is picked up at once; `GET /assets/*` its hashed files, cached for
 * good. Every answer carries the CSP and the other security headers. Looks
 * for the build on each request of `/`: a dashboard built while berth runs
 * is served without a restart, and a missing one answers 503 saying how to build it.
 */
export function registerDashboardRoutes(app: FastifyInstance, dir: string): void {
  // serve: false — only the two routes below, not every file of the folder; sendFile keeps a path inside `dir`.
  // Registered, not awaited: fastify loads it before listening, and the handlers below run only after that.
  app.register(fastifyStatic, { root: dir, serve: false, suppressWarning: true });

  app.get("/", async (_request, reply) => {
    secureHeaders(reply);
    if (!existsSync(join(dir, "index.html"))) {
      return reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .header("cache-control", "no-store")
        .send(DASHBOARD_NOT_BUILT);
    }
    reply.header("cache-control", "no-cache");
    return reply.sendFile("index.html", { cacheControl: false });
  });

  app.get("/assets/*", async (request, reply) => {
    secureHeaders(reply);
    const file = (request.params as { "*": string })["*"];
    return reply.sendFile(`assets/${file}`, {
      immutable: true,
      maxAge: IMMUTABLE_MAX_AGE_MS,
      dotfiles: "deny",
    });
  });
}

function secureHeaders(reply: FastifyReply): void {
  reply
    .header("content-security-policy", DASHBOARD_CSP)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer");
}
