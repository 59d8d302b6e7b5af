import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { DockerClient } from "../docker/docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EngineCallServer } from "./engine-call-server.ts";

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });

/**
 * socket.io-client writes an acknowledgement on whatever engine connection its Manager holds
 * when the ack is called — after a reconnect, the new one, where the API server's ack ids start again
 * if that server restarted. An answer of a call from a connection that ended must not be sent.
 */
describe("EngineCallServer after its connection ended", () => {
  it("does not acknowledge a call that finishes after close()", async () => {
    let finish!: () => void;
    const docker = {
      stopContainer: () => new Promise<void>((resolve) => (finish = resolve)),
    } as unknown as DockerClient;
    const server = new EngineCallServer(docker, () => {}, log);
    const acks: unknown[] = [];
    const answered = server.call(
      { kind: "engine", id: "1", method: "stopContainer", args: ["berth-x", 600] },
      (a: unknown) => acks.push(a),
    );
    await new Promise((r) => setImmediate(r));
    server.close();
    finish();
    await answered;
    expect(acks).toEqual([]);
  });
});
