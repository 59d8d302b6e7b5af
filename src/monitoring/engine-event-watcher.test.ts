import { PassThrough } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import type { ContainerManager } from "../containers/container-manager.ts";
import type { DockerClient, EngineEvent, EventSubscription } from "../docker/docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ContainerStore } from "../store/store-ports.ts";
import { EngineEventWatcher } from "./engine-event-watcher.ts";

/** An engine whose event stream opens only when the test says so, and ends only when closed. */
function slowToOpen() {
  let open: (() => void) | undefined;
  let closed = 0;
  const docker = {
    streamEvents: () =>
      new Promise<EventSubscription>((resolve) => {
        let end: () => void = () => {};
        const done = new Promise<void>((r) => {
          end = r;
        });
        open = () =>
          resolve({
            done,
            close: () => {
              closed++;
              end();
            },
          });
      }),
  } as unknown as DockerClient;
  return { docker, open: () => open?.(), closed: () => closed };
}

describe("EngineEventWatcher", () => {
  it("closes when close() comes while the event stream is still being opened", async () => {
    const engine = slowToOpen();
    const watcher = new EngineEventWatcher({
      docker: engine.docker,
      manager: {} as ContainerManager,
      repo: {} as ContainerStore,
      instanceId: "test",
      log: createSystemLogger({
        level: "silent",
        redactor: new SecretRegistry().system,
        destination: new PassThrough(),
      }),
    });
    watcher.start();
    const closing = watcher.close();
    engine.open(); // the stream opens only after close() was asked for
    await closing;
    expect(engine.closed()).toBe(1);
  });

  it("at start-up, asks for the events since the time it is given: an exit during the reconciliation is not lost", async () => {
    const asked: number[] = [];
    const docker = {
      streamEvents: async (_labels: unknown, sinceMs: number) => {
        asked.push(sinceMs);
        let end: () => void = () => {};
        const done = new Promise<void>((r) => {
          end = r;
        });
        return { done, close: () => end() };
      },
    } as unknown as DockerClient;
    const watcher = new EngineEventWatcher({
      docker,
      manager: {} as ContainerManager,
      repo: {} as ContainerStore,
      instanceId: "test",
      log: createSystemLogger({
        level: "silent",
        redactor: new SecretRegistry().system,
        destination: new PassThrough(),
      }),
    });
    const beforeReconciling = Date.now() - 5_000;
    watcher.start(beforeReconciling);
    // vi.waitFor's own 1 s is short for a loaded machine.
    await vi.waitFor(() => expect(asked).toEqual([beforeReconciling]), { timeout: 10_000 });
    await watcher.close();
  });

  it("takes no event of another engine container than the one berth drives for the workload (a stale copy's, a made-up one)", async () => {
    let deliver: ((e: EngineEvent) => void) | undefined;
    const docker = {
      streamEvents: async (_labels: unknown, _since: number, onEvent: (e: EngineEvent) => void) => {
        deliver = onEvent;
        let end: () => void = () => {};
        const done = new Promise<void>((r) => {
          end = r;
        });
        return { done, close: () => end() };
      },
    } as unknown as DockerClient;
    const health: string[] = [];
    const synced: string[] = [];
    const watcher = new EngineEventWatcher({
      docker,
      manager: {
        causedByBerth: () => false,
        syncFromEngine: async (id: string) => {
          synced.push(id);
        },
      } as unknown as ContainerManager,
      repo: { get: async (id: string) => ({ id, dockerId: "node2:live" }) } as unknown as ContainerStore,
      instanceId: "test",
      onDockerHealth: (id, status) => health.push(`${id} ${status}`),
      log: createSystemLogger({
        level: "silent",
        redactor: new SecretRegistry().system,
        destination: new PassThrough(),
      }),
    });
    watcher.start();
    await vi.waitFor(() => expect(deliver).toBeDefined(), { timeout: 10_000 });
    const send = deliver!;
    const labels = { "berth.id": "C0123456789A" };
    send({ action: "health_status: unhealthy", dockerId: "node3:stale", labels, time: 1 });
    send({ action: "die", dockerId: "node3:stale", labels, time: 2 });
    send({ action: "health_status: healthy", dockerId: "node2:live", labels, time: 3 });
    send({ action: "die", dockerId: "node2:live", labels, time: 4 });
    await vi.waitFor(() => expect(synced).toHaveLength(1), { timeout: 10_000 });
    expect(health).toEqual(["C0123456789A healthy"]);
    expect(synced).toEqual(["C0123456789A"]);
    await watcher.close();
  });
});

describe("EngineEventWatcher stopped and started again (cluster mode: only the leading server watches)", () => {
  it("closes its stream at stop(), follows no event after it, and watches again at the next start()", async () => {
    const streams: { emit: (e: EngineEvent) => void; closed: boolean }[] = [];
    const docker = {
      streamEvents: async (_labels: unknown, _since: number, onEvent: (e: EngineEvent) => void) => {
        let end: () => void = () => {};
        const done = new Promise<void>((r) => {
          end = r;
        });
        const stream = { emit: onEvent, closed: false };
        streams.push(stream);
        return {
          done,
          close: () => {
            stream.closed = true;
            end();
          },
        };
      },
    } as unknown as DockerClient;
    const synced: string[] = [];
    const watcher = new EngineEventWatcher({
      docker,
      manager: {
        causedByBerth: () => false,
        syncFromEngine: async (id: string) => {
          synced.push(id);
        },
      } as unknown as ContainerManager,
      repo: { get: async (id: string) => ({ id, dockerId: "d1" }) } as unknown as ContainerStore,
      instanceId: "test",
      log: createSystemLogger({
        level: "silent",
        redactor: new SecretRegistry().system,
        destination: new PassThrough(),
      }),
    });
    const die = (id: string): EngineEvent => ({
      action: "die",
      dockerId: "d1",
      labels: { "berth.id": id },
      time: Date.now(),
    });
    watcher.start();
    await vi.waitFor(() => expect(streams).toHaveLength(1), { timeout: 10_000 });
    streams[0]!.emit(die("C00000000001"));
    await vi.waitFor(() => expect(synced).toEqual(["C00000000001"]), { timeout: 10_000 });

    await watcher.stop();
    expect(streams[0]!.closed).toBe(true);
    streams[0]!.emit(die("C00000000002")); // a late event of the closed stream
    watcher.start();
    await vi.waitFor(() => expect(streams).toHaveLength(2), { timeout: 10_000 });
    streams[1]!.emit(die("C00000000003"));
    await vi.waitFor(() => expect(synced).toEqual(["C00000000001", "C00000000003"]), { timeout: 10_000 });
    await watcher.close();
    expect(streams[1]!.closed).toBe(true);
  });
});
