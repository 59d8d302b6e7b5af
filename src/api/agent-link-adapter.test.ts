import { PassThrough } from "node:stream";
import type { Namespace } from "socket.io";
import { Adapter, type BroadcastOptions } from "socket.io-adapter";
import { afterEach, describe, expect, it } from "vitest";
import { NodeAgent } from "../agent/node-agent.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import {
  startAgentsTestServer,
  TEST_CREDENTIAL,
  TEST_NODE,
} from "../node-agents/testing/agents-test-server.ts";

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A fan-out adapter (as Redis's) that notes every namespace it serves and every packet it would send on. */
function recordingFanOut() {
  const namespaces: string[] = [];
  const sentOn: string[] = [];
  class Recording extends Adapter {
    override broadcast(packet: { data?: unknown[] }, opts: BroadcastOptions): void {
      sentOn.push(`${this.nsp.name} ${String(packet.data?.[0])}`);
      super.broadcast(packet as never, opts);
    }
  }
  const factory = function fanOut(nsp: Namespace) {
    namespaces.push(nsp.name);
    return new Recording(nsp);
  };
  return { factory, namespaces, sentOn };
}

describe("the node agents' namespace and the clients' adapter", () => {
  it("sends calls to an agent on this server's connection alone: never through the fan-out, nothing stored", async () => {
    const fanOut = recordingFanOut();
    const server = await startAgentsTestServer({ fanOut: fanOut.factory, logLevel: "warn" });
    closers.push(server.close);
    const agent = new NodeAgent({
      servers: [server.url],
      credential: TEST_CREDENTIAL,
      identity: TEST_NODE,
      docker: new FakeDockerClient(),
      log: createSystemLogger({
        level: "silent",
        redactor: new SecretRegistry().system,
        destination: new PassThrough(),
      }),
    });
    agent.start();
    closers.push(() => agent.close());
    await expect.poll(() => server.registry.agentFor(TEST_NODE.nodeId)).toBeDefined();
    const connection = server.registry.agentFor(TEST_NODE.nodeId)!;
    await expect(connection.call("ping", [])).resolves.toBeUndefined();
    // A call given up on sends `cancel`, the one event without an acknowledgement (stored for recovery, if any).
    const abort = new AbortController();
    const waiting = connection.call("waitForExit", ["c1"], abort.signal);
    abort.abort(new Error("given up"));
    await expect(waiting).rejects.toThrow("given up");
    await expect(connection.call("ping", [])).resolves.toBeUndefined();
    // The clients' namespace has the fan-out (the test would pass without one); the agents' does not.
    expect(fanOut.namespaces).toContain("/");
    expect(fanOut.namespaces).not.toContain("/agents");
    expect(fanOut.sentOn.filter((s) => s.startsWith("/agents"))).toEqual([]);
  });
});
