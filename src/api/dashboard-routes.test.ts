import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DASHBOARD_CSP, DASHBOARD_NOT_BUILT, registerDashboardRoutes } from "./dashboard-routes.ts";

describe("the dashboard's routes", () => {
  let dir: string;
  let app: FastifyInstance;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-dashboard-"));
    app = Fastify({ logger: false });
    registerDashboardRoutes(app, join(dir, "dist"));
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function build(): void {
    mkdirSync(join(dir, "dist", "assets"), { recursive: true });
    writeFileSync(
      join(dir, "dist", "index.html"),
      '<!doctype html><script type="module" src="/assets/app-abc123.js"></script>',
    );
    writeFileSync(join(dir, "dist", "assets", "app-abc123.js"), "console.log('berth');");
    writeFileSync(join(dir, "secret.txt"), "outside the build");
  }

  it("answers 503 with how to build it, as plain text, while the dashboard is not built", async () => {
    const res = await app.inject({ method: "GET", url: "/" });
    expect(res.statusCode).toBe(503);
    expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(res.body).toBe(DASHBOARD_NOT_BUILT);
    expect(res.body).toContain("npm run setup");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("serves a dashboard built after berth started, without a restart", async () => {
    expect((await app.inject({ method: "GET", url: "/" })).statusCode).toBe(503);
    build();
    expect((await app.inject({ method: "GET", url: "/" })).statusCode).toBe(200);
  });

  it("serves the page revalidated on every load, with a CSP that allows no inline script", async () => {
    build();
    const res = await app.inject({ method: "GET", url: "/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["cache-control"]).toBe("no-cache");
    expect(res.headers["content-security-policy"]).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self';");
    expect(DASHBOARD_CSP).not.toContain("unsafe-inline");
    // WebSockets back to berth only: 'self' covers same-origin ws:/wss:, a bare scheme would allow any host.
    expect(DASHBOARD_CSP).toContain("connect-src 'self';");
    expect(DASHBOARD_CSP).not.toMatch(/\bwss?:/);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
  });

  it("serves hashed assets as immutable for a year", async () => {
    build();
    const res = await app.inject({ method: "GET", url: "/assets/app-abc123.js" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/javascript/);
    expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(res.headers["content-security-policy"]).toBe(DASHBOARD_CSP);
  });

  it("serves nothing outside the build's page and assets", async () => {
    build();
    for (const url of [
      "/assets/missing.js",
      "/assets/../index.html",
      "/assets/..%2f..%2fsecret.txt",
      "/assets/%2e%2e/%2e%2e/secret.txt",
      "/secret.txt",
      "/index.html/",
    ]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.body, url).not.toContain("outside the build");
    }
  });

  it("sends the policy the README shows", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(readme).toContain(DASHBOARD_CSP);
  });
});
