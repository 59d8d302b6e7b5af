import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
import { seriesValue } from "../../src/metrics/testing/series-value.ts";
import { settled } from "../helpers/settled.ts";
import {
  type Client,
  startTestServer,
  type TestServer,
  TOKENS,
  useTestServer,
} from "../helpers/test-server.ts";

const echoSource = readFile(new URL("../fixtures/workloads/echo.js", import.meta.url), "utf8");

/** The echo fixture, except that it never answers `{ silent: true }`: a request that times out. */
async function echoWithSilence(): Promise<{ files: Record<string, string> }> {
  const source = (await echoSource).replace("if (d?.fail)", "if (d?.silent) continue;\n        if (d?.fail)");
  if (source === (await echoSource))
    throw new Error("the echo fixture changed: no place for the silent case");
  return { files: { "index.js": source } };
}

async function scrape(server: TestServer, token?: string): Promise<Response> {
  return fetch(`${server.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

async function metricsText(server: TestServer): Promise<string> {
  const res = await scrape(server, TOKENS.admin);
  expect(res.status).toBe(200);
  return res.text();
}

describe("GET /metrics after a scripted run", () => {
  const server = useTestServer();
  const REQUESTS_ANSWERED = 7;
  let alice: Client;
  let app: Container;
  let other: Container;
  let text: string;

  beforeAll(async () => {
    alice = await server.connect("alice");
    app = await alice.containers.create({ name: "metrics-app-one", code: await echoWithSilence() });
    other = await alice.containers.create({ name: "metrics-app-two", code: await echoWithSilence() });
    await other.stop();
    await other.start();
    await other.restart();
    for (let i = 0; i < REQUESTS_ANSWERED; i++) await app.request({ n: i });
    expect(await settled(app.request({ fail: "refused on purpose" }))).toMatchObject({
      ok: false,
      error: { code: "WORKLOAD_ERROR" },
    });
    expect(await settled(app.request({ silent: true }, { timeoutMs: 200 }))).toMatchObject({
      ok: false,
      error: { code: "CHANNEL_TIMEOUT" },
    });
    const update = await settled(app.update({ files: { "index.js": "throw new Error('boom');" } }));
    expect(update).toMatchObject({ ok: false, error: { code: "UPDATE_ROLLED_BACK" } });
    await other.delete();
    text = await metricsText(server);
  }, 120_000);

  it("counts each operation by type and outcome, and times each one", () => {
    const ops = (op: string, outcome: string) =>
      seriesValue(text, `berth_operations_total{op="${op}",outcome="${outcome}"}`);
    expect(ops("create", "ok")).toBe(2);
    expect(ops("stop", "ok")).toBe(1);
    expect(ops("start", "ok")).toBe(1);
    expect(ops("restart", "ok")).toBe(1);
    expect(ops("update", "UPDATE_ROLLED_BACK")).toBe(1);
    expect(ops("delete", "ok")).toBe(1);
    expect(text).not.toMatch(/^berth_operations_total\{op="update",outcome="ok"\}/m);
    expect(seriesValue(text, 'berth_operation_duration_seconds_count{op="create"}')).toBe(2);
    expect(seriesValue(text, 'berth_operation_duration_seconds_count{op="update"}')).toBe(1);
    expect(seriesValue(text, 'berth_operation_duration_seconds_sum{op="create"}')).toBeGreaterThan(0);
  });

  it("counts channel requests by outcome, with one latency per request", () => {
    expect(seriesValue(text, 'berth_channel_requests_total{outcome="ok"}')).toBe(REQUESTS_ANSWERED);
    expect(seriesValue(text, 'berth_channel_requests_total{outcome="WORKLOAD_ERROR"}')).toBe(1);
    expect(seriesValue(text, 'berth_channel_requests_total{outcome="CHANNEL_TIMEOUT"}')).toBe(1);
    expect(seriesValue(text, "berth_channel_request_duration_seconds_count")).toBe(REQUESTS_ANSWERED + 2);
    // The timeout alone waited 200 ms, read as a little less: its timer starts from the event loop's cached
    // clock, which lags the finer one the latency is read from by however long the turn has run (tens of ms
    // on a loaded machine). Every request took less than 10 s (in seconds, not ms; a loaded machine may take
    // more than one for an answer).
    expect(seriesValue(text, "berth_channel_request_duration_seconds_sum")).toBeGreaterThanOrEqual(0.1);
    expect(seriesValue(text, 'berth_channel_request_duration_seconds_bucket{le="10"}')).toBe(
      REQUESTS_ANSWERED + 2,
    );
    expect(seriesValue(text, "berth_channel_received_bytes_total")).toBeGreaterThan(0);
    expect(seriesValue(text, "berth_channel_sent_bytes_total")).toBeGreaterThan(0);
  });

  it("reports the containers left by state and health, and who is connected", () => {
    expect(seriesValue(text, 'berth_containers{state="running"}')).toBe(1);
    expect(seriesValue(text, 'berth_containers{state="stopped"}')).toBe(0);
    expect(seriesValue(text, 'berth_containers_health{health="healthy"}')).toBe(1);
    expect(seriesValue(text, "berth_connected_clients")).toBe(1);
    expect(seriesValue(text, "berth_connected_workloads")).toBe(1);
  });

  it("counts engine calls, activity entries and the process's own metrics", () => {
    expect(seriesValue(text, 'berth_engine_calls_total{op="container create"}')).toBeGreaterThanOrEqual(2);
    expect(seriesValue(text, 'berth_engine_calls_total{op="container remove"}')).toBeGreaterThanOrEqual(1);
    expect(seriesValue(text, 'berth_activity_entries_total{action="container.created"}')).toBe(2);
    expect(seriesValue(text, "berth_engine_event_stream_reconnects_total")).toBe(0);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });

  it("names no container id, container name or owner in any series when per-container labels are off", () => {
    for (const secret of [app.id, other.id, "metrics-app-one", "metrics-app-two", "alice"])
      expect(text).not.toContain(secret);
    expect(text).not.toMatch(/container="/);
  });

  it("answers only the admin's token: 401 with no token or alice's, with WWW-Authenticate, and nothing else", async () => {
    for (const token of [undefined, TOKENS.alice, "not-a-token-at-all"]) {
      const res = await scrape(server, token);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="berth"');
      expect(await res.text()).not.toContain("berth_");
    }
    expect((await scrape(server, TOKENS.admin)).status).toBe(200);
  });
});

describe("GET /metrics as configured", () => {
  const servers: TestServer[] = [];
  const start = async (env: Record<string, string>) => {
    const server = await startTestServer(env);
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it("answers without a token with BERTH_METRICS_PUBLIC=true", async () => {
    const server = await start({ BERTH_METRICS_PUBLIC: "true" });
    const res = await scrape(server);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("berth_containers");
  });

  it("is not there at all with BERTH_METRICS=false", async () => {
    const server = await start({ BERTH_METRICS: "false" });
    expect(server.berth.metrics).toBeUndefined();
    expect((await scrape(server, TOKENS.admin)).status).toBe(404);
  });

  it("labels the channel's series with the container id with BERTH_METRICS_PER_CONTAINER=true, until it is deleted", async () => {
    const server = await start({ BERTH_METRICS_PER_CONTAINER: "true" });
    const alice = await server.connect("alice");
    const app = await alice.containers.create({ name: "per-container", code: await echoWithSilence() });
    await app.request({ hello: 1 });
    let text = await metricsText(server);
    expect(seriesValue(text, `berth_channel_requests_total{outcome="ok",container="${app.id}"}`)).toBe(1);
    expect(seriesValue(text, `berth_channel_received_bytes_total{container="${app.id}"}`)).toBeGreaterThan(0);
    expect(text).not.toContain("per-container");
    expect(text).not.toContain("alice");
    await app.delete();
    text = await metricsText(server);
    expect(text).not.toContain(app.id);
  }, 60_000);
});
