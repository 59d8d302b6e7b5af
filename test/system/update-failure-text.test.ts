import { describe, expect, it } from "vitest";
import { collectActivity } from "../helpers/events.ts";
import { settled } from "../helpers/settled.ts";
import { echoCode, useTestServer } from "../helpers/test-server.ts";

const SECRET = "canary-s3cr3t-51d7e0";

/**
 * A workload that answers its health request with an error frame whose
 * message carries its secret split by an escape sequence, plus a terminal
 * title sequence, and prints the same to its output.
 */
const hostile = `
const net = require("node:net");
const key = process.env.SIGNING_KEY;
const split = key.slice(0, 5) + "\\x1b[0m" + key.slice(5);
const text = "health failed: " + split + " \\x1b]0;pwned\\x07 \\x9b2J";
console.error(text);
const socket = net.connect(process.env.BERTH_SOCKET);
const send = (frame) => socket.write(JSON.stringify(frame) + "\\n");
let buffer = "";
socket.on("connect", () => send({ type: "hello", protocol: 1 }));
socket.on("data", (chunk) => {
  buffer += chunk;
  for (let nl = buffer.indexOf("\\n"); nl !== -1; nl = buffer.indexOf("\\n")) {
    const frame = JSON.parse(buffer.slice(0, nl));
    buffer = buffer.slice(nl + 1);
    if (frame.type === "ping") send({ type: "pong", id: frame.id });
    if (frame.type === "request") send({ type: "response", id: frame.id, error: { message: text, code: split } });
  }
});
socket.on("error", () => {});
process.on("SIGTERM", () => process.exit(0));
`;

describe("what a failed update says about the workload's own error", () => {
  const server = useTestServer();

  it("shows the health check's error sanitised and redacted, in the answer, the feed and its history, and nothing of it to bob", async () => {
    const alice = await server.connect("alice");
    const bob = await server.connect("bob");
    const feed = collectActivity(alice);
    const bobsFeed = collectActivity(bob);
    const gate = await alice.containers.create({
      name: "gate",
      secretEnv: { SIGNING_KEY: SECRET },
      code: await echoCode(),
    });
    const id = gate.id;
    // As berth's answer shape, so that the whole answer (the error's message included) is searched below.
    const res = await settled(
      gate.update(
        { files: { "index.js": hostile } },
        { healthCheck: { request: { health: true }, timeoutMs: 5000 } },
      ),
    );
    expect(res).toMatchObject({
      ok: false,
      error: { code: "UPDATE_ROLLED_BACK", details: { failedStep: "health", cause: "health_error" } },
    });
    const history = await alice.activity.history({ limit: 100 });
    feed.stop();
    bobsFeed.stop();
    expect(bobsFeed.entries.filter((e) => e.containerId === id)).toEqual([]);
    const told = feed.entries.find((e) => e.action === "container.update_rolled_back");
    expect(told).toBeDefined();
    if (!res.ok) expect(res.error.details?.output).toContain("health failed: [REDACTED]  \\x9b2J");
    // The feed keeps the same lines, as shown to the owner, for whoever did not run the update.
    expect((told?.details as { output?: string[] } | undefined)?.output).toContain(
      "health failed: [REDACTED]  \\x9b2J",
    );
    for (const [surface, value] of Object.entries({ answer: res, feed: feed.entries, history })) {
      const text = JSON.stringify(value);
      expect(text.includes("s3cr3t"), `secret in ${surface}`).toBe(false);
      // JSON shows C0 controls as \u00NN; the C1 CSI stays as it is.
      for (const control of ["\\u001b", "\\u0007", "\x9b"])
        expect(text.includes(control), `${JSON.stringify(control)} in ${surface}`).toBe(false);
    }
    await gate.delete();
  });
});
