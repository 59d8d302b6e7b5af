import { describe, expect, it } from "vitest";
import type { ContainerState, HealthState } from "#protocol";
import { ChannelTimeoutError, WorkloadError } from "../channel/channel-errors.ts";
import { DockerUnavailableError } from "../errors/errors.ts";
import { BerthMetrics, type MetricSources } from "./berth-metrics.ts";
import { seriesValue } from "./testing/series-value.ts";

type Tally = Array<{ state: ContainerState; health: HealthState; count: number }>;

function metricsWith(sources: Partial<MetricSources> = {}, perContainer = false): BerthMetrics {
  return new BerthMetrics({
    perContainer,
    version: "9.9.9",
    sources: {
      containers: async () => [],
      connectedClients: () => 0,
      connectedWorkloads: () => 0,
      listeners: () => 0,
      ...sources,
    },
  });
}

describe("BerthMetrics", () => {
  it("reads containers by state and by health from its source at each scrape, every state reported", async () => {
    let tally: Tally = [{ state: "running", health: "healthy", count: 2 }];
    const metrics = metricsWith({ containers: async () => tally });
    let text = await metrics.scrape();
    expect(seriesValue(text, 'berth_containers{state="running"}')).toBe(2);
    expect(seriesValue(text, 'berth_containers{state="failed"}')).toBe(0);
    expect(seriesValue(text, 'berth_containers_health{health="healthy"}')).toBe(2);

    tally = [
      { state: "running", health: "unhealthy", count: 1 },
      { state: "stopped", health: "none", count: 3 },
    ];
    text = await metrics.scrape();
    expect(seriesValue(text, 'berth_containers{state="running"}')).toBe(1);
    expect(seriesValue(text, 'berth_containers{state="stopped"}')).toBe(3);
    expect(seriesValue(text, 'berth_containers_health{health="healthy"}')).toBe(0);
    expect(seriesValue(text, 'berth_containers_health{health="unhealthy"}')).toBe(1);
    expect(seriesValue(text, 'berth_containers_health{health="none"}')).toBe(3);
  });

  it("reads connected clients and workloads, and berth's listeners, at scrape time", async () => {
    let clients = 3;
    let listeners = 40;
    const metrics = metricsWith({
      connectedClients: () => clients,
      connectedWorkloads: () => 5,
      listeners: () => listeners,
    });
    let text = await metrics.scrape();
    expect(seriesValue(text, "berth_connected_clients")).toBe(3);
    expect(seriesValue(text, "berth_listeners")).toBe(40);
    clients = 1;
    listeners = 12;
    text = await metrics.scrape();
    expect(seriesValue(text, "berth_connected_clients")).toBe(1);
    expect(seriesValue(text, "berth_connected_workloads")).toBe(5);
    expect(seriesValue(text, "berth_listeners")).toBe(12);
  });

  it("counts operations by op and outcome (the error code), and times them", async () => {
    const metrics = metricsWith();
    metrics.operationEnded({ op: "create", ok: true, ms: 300 });
    metrics.operationEnded({ op: "create", ok: true, ms: 200 });
    metrics.operationEnded({ op: "start", ok: false, ms: 10, error: new DockerUnavailableError() });
    metrics.operationEnded({ op: "update", ok: false, ms: 10, error: new Error("unexpected") });
    const text = await metrics.scrape();
    expect(seriesValue(text, 'berth_operations_total{op="create",outcome="ok"}')).toBe(2);
    expect(seriesValue(text, 'berth_operations_total{op="start",outcome="DOCKER_UNAVAILABLE"}')).toBe(1);
    expect(seriesValue(text, 'berth_operations_total{op="update",outcome="INTERNAL"}')).toBe(1);
    expect(seriesValue(text, 'berth_operation_duration_seconds_count{op="create"}')).toBe(2);
    expect(seriesValue(text, 'berth_operation_duration_seconds_sum{op="create"}')).toBeCloseTo(0.5);
    expect(seriesValue(text, 'berth_operation_duration_seconds_bucket{le="0.25",op="create"}')).toBe(1);
  });

  it("counts engine calls by op, and their errors by op and kind", async () => {
    const metrics = metricsWith();
    metrics.engineCall("container start", undefined);
    metrics.engineCall("container start", new DockerUnavailableError());
    const text = await metrics.scrape();
    expect(seriesValue(text, 'berth_engine_calls_total{op="container start"}')).toBe(2);
    expect(
      seriesValue(text, 'berth_engine_errors_total{op="container start",kind="DOCKER_UNAVAILABLE"}'),
    ).toBe(1);
  });

  it("counts event-stream reconnects and activity entries by action", async () => {
    const metrics = metricsWith();
    metrics.eventStreamReconnected();
    metrics.activityEntryWritten("container.created");
    metrics.activityEntryWritten("container.created");
    const text = await metrics.scrape();
    expect(seriesValue(text, "berth_engine_event_stream_reconnects_total")).toBe(1);
    expect(seriesValue(text, 'berth_activity_entries_total{action="container.created"}')).toBe(2);
  });

  it("counts channel traffic in one set of series for all containers by default, with no container label", async () => {
    const metrics = metricsWith();
    const a = metrics.channel.forContainer("c_aaaaaaaaaaaa");
    const b = metrics.channel.forContainer("c_bbbbbbbbbbbb");
    a.requestEnded(0.0002, undefined);
    b.requestEnded(0.0004, undefined);
    b.requestEnded(0.5, new WorkloadError({ message: "no" }));
    a.requestEnded(30, new ChannelTimeoutError(30_000));
    a.received(100);
    b.sent(40);
    a.frameRefused("BAD_FRAME");
    const text = await metrics.scrape();
    expect(seriesValue(text, 'berth_channel_requests_total{outcome="ok"}')).toBe(2);
    expect(seriesValue(text, 'berth_channel_requests_total{outcome="WORKLOAD_ERROR"}')).toBe(1);
    expect(seriesValue(text, 'berth_channel_requests_total{outcome="CHANNEL_TIMEOUT"}')).toBe(1);
    expect(seriesValue(text, "berth_channel_request_duration_seconds_count")).toBe(4);
    expect(seriesValue(text, 'berth_channel_request_duration_seconds_bucket{le="0.00025"}')).toBe(1);
    expect(seriesValue(text, "berth_channel_received_bytes_total")).toBe(100);
    expect(seriesValue(text, "berth_channel_sent_bytes_total")).toBe(40);
    expect(seriesValue(text, 'berth_channel_frames_refused_total{code="BAD_FRAME"}')).toBe(1);
    expect(text).not.toContain("c_aaaaaaaaaaaa");
    expect(text).not.toContain("container=");
  });

  it("labels channel series with the container id when per container, and drops them when it is forgotten", async () => {
    const metrics = metricsWith({}, true);
    const a = metrics.channel.forContainer("c_aaaaaaaaaaaa");
    expect(metrics.channel.forContainer("c_aaaaaaaaaaaa")).toBe(a);
    a.requestEnded(0.001, undefined);
    a.requestEnded(0.001, new WorkloadError({ message: "no" }));
    a.received(7);
    a.frameRefused("UNKNOWN_TYPE");
    metrics.channel.forContainer("c_bbbbbbbbbbbb").sent(9);
    let text = await metrics.scrape();
    expect(seriesValue(text, 'berth_channel_requests_total{outcome="ok",container="c_aaaaaaaaaaaa"}')).toBe(
      1,
    );
    expect(seriesValue(text, 'berth_channel_received_bytes_total{container="c_aaaaaaaaaaaa"}')).toBe(7);
    expect(seriesValue(text, 'berth_channel_sent_bytes_total{container="c_bbbbbbbbbbbb"}')).toBe(9);

    metrics.channel.forget("c_aaaaaaaaaaaa");
    text = await metrics.scrape();
    expect(text).not.toContain("c_aaaaaaaaaaaa");
    expect(text).toContain("c_bbbbbbbbbbbb");
  });

  it("keeps its own registry: two in one process do not collide, and prom-client's global one stays empty", async () => {
    const { register } = await import("prom-client");
    const one = metricsWith();
    const two = metricsWith();
    one.eventStreamReconnected();
    expect(seriesValue(await one.scrape(), "berth_engine_event_stream_reconnects_total")).toBe(1);
    expect(seriesValue(await two.scrape(), "berth_engine_event_stream_reconnects_total")).toBe(0);
    expect(register.getMetricsAsArray()).toHaveLength(0);
  });

  it("includes the process's default metrics and berth's version", async () => {
    const text = await metricsWith().scrape();
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    expect(text).toContain("nodejs_heap_size_used_bytes");
    expect(text).toContain("nodejs_gc_duration_seconds");
    expect(seriesValue(text, 'berth_build_info{version="9.9.9"}')).toBe(1);
  });
});
