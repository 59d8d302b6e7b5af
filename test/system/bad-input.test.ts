import { readdir } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Client,
  call,
  docker,
  echoCode,
  ok,
  type RawClient,
  useTestServer,
} from "../helpers/test-server.ts";

describe("bad input", () => {
  const server = useTestServer();
  let alice: Client;
  // What berth does with input as it arrives on the wire: a bare socket, since the SDK refuses some of it
  // (code over the limits) before sending, and cannot emit without an acknowledgement.
  let wire: RawClient;

  beforeAll(async () => {
    [alice, wire] = await Promise.all([server.connect("alice"), server.connectRaw("alice")]);
  });
  const cases: Array<[string, unknown]> = [
    ["a missing name", { code: { files: { "index.js": "" } } }],
    ["a name of the wrong type", { name: 42 }],
    ["an unknown field", { name: "x", privileged: true }],
    ["an unknown nested field", { name: "x", resources: { memoryMb: 64, swap: 1 } }],
    ["'../' in the name", { name: "../etc" }],
    ["an upper-case name", { name: "Weather" }],
    ["a 64-character name", { name: "a".repeat(64) }],
    ["'../' in a code path", { name: "x", code: { files: { "../escape.js": "1" } } }],
    ["an absolute code path", { name: "x", code: { files: { "/etc/passwd": "1" } } }],
    ["a NUL in a code path", { name: "x", code: { files: { "a\0b.js": "1" } } }],
    ["a backslash in a code path", { name: "x", code: { files: { "..\\x.js": "1" } } }],
    ["a 10 MB code file", { name: "x", code: { files: { "big.js": "x".repeat(10 * 1024 * 1024) } } }],
    ["an image that is not allowed", { name: "x", image: "alpine:latest" }],
    ["outbound network where it is not allowed", { name: "x", network: "outbound" }],
    ["memory above the server's maximum", { name: "x", resources: { memoryMb: 1_000_000 } }],
    ["a reserved environment variable", { name: "x", env: { BERTH_SOCKET: "/tmp/evil" } }],
    ["a reserved label", { name: "x", labels: { "berth.owner": "bob" } }],
    ["a Compose label", { name: "x", labels: { "com.docker.compose.project": "prod" } }],
    ["a Swarm label", { name: "x", labels: { "com.docker.swarm.service.id": "abc" } }],
    ["a Docker label in other case", { name: "x", labels: { "Com.Docker.Compose.project": "prod" } }],
    ["an OCI label", { name: "x", labels: { "org.opencontainers.image.source": "x" } }],
    ["a command that is not a string array", { name: "x", command: "rm -rf /" }],
  ];

  it.each(cases)("answers %s with VALIDATION_FAILED", async (_what, payload) => {
    const res = await call(wire, "container:create", payload);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error).toMatchObject({ code: "VALIDATION_FAILED", category: "validation", retryable: false });
    expect(res.error.message).not.toMatch(/\/tmp\/|at .*\.ts|node_modules/);
  });

  it("refuses a 10 MB code file in the SDK before sending, naming both limits", async () => {
    const sent = { name: "x", code: { files: { "big.js": "x".repeat(10 * 1024 * 1024) } } };
    await expect(alice.containers.create(sent)).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      details: {
        maxCodeBytes: alice.info.limits.maxCodeBytes,
        maxPayloadBytes: alice.info.limits.maxPayloadBytes,
      },
    });
  });

  it("answers payloads that are not objects, and events of other shapes, without harm", async () => {
    for (const payload of [null, 42, "create", [1, 2], undefined]) {
      expect(await call(alice, "container:status", payload)).toMatchObject({
        ok: false,
        error: { code: "VALIDATION_FAILED" },
      });
      expect(await call(wire, "container:status", payload)).toMatchObject({
        ok: false,
        error: { code: "VALIDATION_FAILED" },
      });
    }
    // No acknowledgement callback: nothing to answer, nothing made, nothing broken.
    const raw = wire as unknown as { emit(event: string, ...args: unknown[]): void };
    raw.emit("container:create", { name: "no-ack", code: await echoCode() });
    raw.emit("container:delete");
    raw.emit("no:such:event", { x: 1 });
    // Listed on the same connection, so that berth has seen the three events before it answers.
    const list = await ok(wire, "container:list", {});
    expect(list.items.map((c) => c.name)).not.toContain("no-ack");
  });

  it("leaves nothing behind after refusing, and stays up", async () => {
    const engine = await docker.listContainers({
      all: true,
      filters: { label: [`berth.instance=${server.berth.instanceId}`] },
    });
    expect(engine).toEqual([]);
    expect(await readdir(`${server.dataDir}/code`)).toEqual([]);
    expect(await readdir(`${server.dataDir}/run`)).toEqual([]);
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", engine: { apiVersion: expect.any(String) } });
  });
});
