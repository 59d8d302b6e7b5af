import { PassThrough } from "node:stream";
import { NodeAgent } from "../src/agent/node-agent.ts";
import { SocketCommunicationHandler } from "../src/channel/socket-communication-handler.ts";
import { FakeDockerClient } from "../src/docker/testing/fake-docker-client.ts";
import { SecretRegistry } from "../src/logging/secret-registry.ts";
import { createSystemLogger } from "../src/logging/system-logger.ts";
import { TEST_CREDENTIAL, TEST_NODE } from "../src/node-agents/testing/agents-test-server.ts";

/**
 * The node agent of bench/agent-link.ts, in a process of its own (so that its
 * CPU is its own): a real channel hub on AGENT_LINK_RUN_DIR and a NodeAgent
 * dialling AGENT_LINK_SERVER, as `npm run agent` builds them, with a fake
 * engine (the benchmark makes no container). Ends on SIGTERM, or with its parent.
 */
const log = createSystemLogger({
  level: "warn",
  redactor: new SecretRegistry().system,
  destination: new PassThrough().resume(),
});
const channels = new SocketCommunicationHandler({
  runDir: process.env.AGENT_LINK_RUN_DIR!,
  maxFrameBytes: 1024 * 1024,
  maxRequestTimeoutMs: 60_000,
  log,
});
const agent = new NodeAgent({
  servers: [process.env.AGENT_LINK_SERVER!],
  credential: TEST_CREDENTIAL,
  identity: TEST_NODE,
  docker: new FakeDockerClient(),
  channels,
  log,
});
agent.start();
process.on("SIGTERM", () => {
  agent.close();
  void channels.closeAll().finally(() => process.exit(0));
});
