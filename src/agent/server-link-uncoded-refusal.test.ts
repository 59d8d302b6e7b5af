import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { Server } from "socket.io";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, within } from "../../test/helpers/deadline.ts";
import { deriveAgentCredential } from "../agent-link/agent-credential.ts";
import { AGENTS_NAMESPACE } from "../agent-link/agent-link-contract.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { ServerLink } from "./server-link.ts";

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });
const CREDENTIAL = deriveAgentCredential("agent-token-for-the-uncoded-refusal-0123456789", "node1");

/** A refusal without berth's code (no /agents namespace yet) must not end the link's dialling for good. */
describe("ServerLink after a refusal without a code", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it("dials again once the server has its /agents namespace", async () => {
    const http = createServer();
    const io = new Server(http, { transports: ["websocket"] });
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    cleanups.push(() => void io.close());
    const { port } = http.address() as AddressInfo;
    const link = new ServerLink({
      url: `http://127.0.0.1:${port}`,
      credential: CREDENTIAL,
      identity: { nodeId: "node1", hostname: "h", version: "t" },
      docker: new FakeDockerClient(),
      log,
      minDelayMs: 20,
      maxDelayMs: 200,
    });
    cleanups.push(() => link.close());
    // An API server started before its BERTH_AGENT_TOKEN was set, or one being upgraded: "Invalid namespace".
    // A matcher that allows no namespace is asked, and refuses, as a server without one does (Socket.IO then
    // sends the same refusal): the test knows the first dial was refused before the namespace is there.
    const refused = new Promise<void>((resolve) =>
      io.of((_name, _auth, next) => {
        next(null, false);
        resolve();
      }),
    );
    link.start();
    await within(15_000, "the first dial refused", refused);
    expect(link.connected).toBe(false);
    io.of(AGENTS_NAMESPACE);
    await eventually(15_000, "the link connected once the namespace is there", () => link.connected);
  });
});
