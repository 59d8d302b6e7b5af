import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Server } from "socket.io";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../test/helpers/deadline.ts";
import { deriveAgentCredential } from "../agent-link/agent-credential.ts";
import { AGENTS_NAMESPACE } from "../agent-link/agent-link-contract.ts";
import { ChannelLaneAcceptor } from "../api/channel-lane-acceptor.ts";
import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { AgentConnection } from "../node-agents/agent-connection.ts";
import type { AgentChannels } from "./channel-pushes.ts";
import { ServerLink } from "./server-link.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-agent-ca-"));

/** Runs openssl in the test's directory: certificates made for this run, valid for a day. */
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A CA of its own, named `name`: its certificate's PEM. */
function ca(name: string): string {
  openssl(
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "1",
    "-subj",
    `/CN=${name}`,
  );
  return readFileSync(join(dir, `${name}.pem`), "utf8");
}

let pinned: string;
let other: string;
let server: { key: string; cert: string };

beforeAll(() => {
  pinned = ca("pinned-ca");
  other = ca("other-ca");
  // The API server's certificate, for 127.0.0.1, signed by the pinned CA.
  openssl("req", ...EC, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(join(dir, "ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "pinned-ca.pem",
    "-CAkey",
    "pinned-ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "1",
    "-extfile",
    "ext",
  );
  server = {
    key: readFileSync(join(dir, "server.key"), "utf8"),
    cert: readFileSync(join(dir, "server.pem"), "utf8"),
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An https API server whose /agents namespace lets anyone in (the credential is not this test's point). */
async function httpsServer() {
  const https = createServer(server);
  const io = new Server(https, { transports: ["websocket"] });
  const admitted: string[] = [];
  io.of(AGENTS_NAMESPACE).on("connection", (socket) => admitted.push(socket.id));
  https.listen(0, "127.0.0.1");
  await once(https, "listening");
  cleanups.push(() => new Promise((resolve) => io.close(resolve)));
  return { url: `https://127.0.0.1:${(https.address() as AddressInfo).port}`, admitted, https, io };
}

/** A link to `url` trusting `ca` (or Node's own store); its log as text. */
function link(url: string, ca: string | undefined, channels?: AgentChannels) {
  let logText = "";
  const destination = new PassThrough();
  destination.on("data", (c: Buffer) => {
    logText += c.toString();
  });
  const l = new ServerLink({
    url,
    credential: deriveAgentCredential("master-key-of-the-ca-test-0123456789abcdef", "node1"),
    ca,
    identity: { nodeId: "node1", hostname: "h", version: "t" },
    docker: new FakeDockerClient(),
    ...(channels ? { channels } : {}),
    log: createSystemLogger({ level: "debug", redactor: new Redactor(), destination }),
    minDelayMs: 50,
    maxDelayMs: 200,
  });
  cleanups.push(() => l.close());
  l.start();
  return { link: l, logs: () => logText };
}

describe("the agent's https to an API server, with a CA pinned (BERTH_AGENT_CA_FILE)", () => {
  it("connects to a server whose certificate the pinned CA signed", async () => {
    const { url, admitted } = await httpsServer();
    const { link: l } = link(url, pinned);
    await eventually(5_000, "the link connected", () => l.connected);
    expect(admitted).toHaveLength(1);
  });

  it("refuses it when pinned to another CA, and without a CA of its own (Node's trust store does not know it)", async () => {
    const { url, admitted } = await httpsServer();
    for (const ca of [other, undefined]) {
      const { link: l, logs } = link(url, ca);
      // Tried, and tried again: the certificate refused each time, never a connection.
      await eventually(
        5_000,
        "two refused tries",
        () => logs().split("could not reach the API server").length > 2,
      );
      expect(l.connected).toBe(false);
      l.close();
    }
    expect(admitted).toEqual([]);
  });

  it("opens its channel lane on the same server, trusting the same pinned CA", async () => {
    const { url, https, io } = await httpsServer();
    const log = createSystemLogger({
      level: "silent",
      redactor: new Redactor(),
      destination: new PassThrough(),
    });
    const lanes = new ChannelLaneAcceptor(https as unknown as HttpServer, {
      maxPayloadBytes: 1024 * 1024,
      log,
    });
    cleanups.push(() => lanes.close());
    const attached: unknown[] = [];
    const agent = { nodeId: "node1", isClosed: false, attachLane: (ws: unknown) => attached.push(ws) };
    io.of(AGENTS_NAMESPACE).on("connection", (socket) =>
      socket.emit("lane", lanes.offer(agent as unknown as AgentConnection)),
    );
    const runDir = mkdtempSync(join(dir, "run-"));
    const channels = new SocketCommunicationHandler({
      runDir,
      maxFrameBytes: 1024,
      maxRequestTimeoutMs: 1000,
      log,
    });
    cleanups.push(() => channels.closeAll());
    const { link: l } = link(url, pinned, channels);
    await eventually(5_000, "the lane open", () => l.laneOpen);
    expect(attached).toHaveLength(1);
  });
});
