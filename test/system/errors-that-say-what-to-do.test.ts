import { io } from "socket.io-client";
import { beforeAll, describe, expect, it } from "vitest";
import type { HealthChangedEvent, WireError } from "#protocol";
import { connect } from "../../packages/client/src/index.ts";
import { cpuTime } from "../helpers/cpu-time.ts";
import { eventually } from "../helpers/deadline.ts";
import { refused } from "../helpers/refused.ts";
import {
  type Client,
  call,
  docker,
  echoCode,
  type RawClient,
  useTestServer,
} from "../helpers/test-server.ts";
import { versioned } from "../helpers/versioned.ts";

/**
 * Emits any event name with an acknowledgement, as a client with a typo in it
 * would — on a bare socket: the SDK's typed `call` cannot send a name that is
 * not in the contract.
 */
function emitRaw(
  client: RawClient,
  event: string,
  payload: unknown,
): Promise<{ ok: boolean; error?: WireError }> {
  return (
    client.timeout(10_000) as unknown as {
      emitWithAck(e: string, p: unknown): Promise<{ ok: boolean; error?: WireError }>;
    }
  ).emitWithAck(event, payload);
}

const MISSING_IMAGE = "berth-test/not-built:0";

describe("errors that say what to do", () => {
  const server = useTestServer({
    BERTH_ALLOWED_IMAGES: `berth/runtime-node:24,${MISSING_IMAGE}`,
    // Waited out by the one workload that never connects (whose lines must be printed by then), and raced
    // by every other create: long enough for a loaded machine to start a container and hear its hello.
    BERTH_READY_TIMEOUT_MS: "10000",
  });
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    alice = await server.connect("alice");
    bob = await server.connect("bob");
  });

  // What berth answers to an event name outside the contract: a wire test, on bare sockets.
  describe("an unknown event sent with an acknowledgement", () => {
    it("is answered at once with UNKNOWN_EVENT naming the nearest events", async () => {
      const res = await emitRaw(await server.connectRaw("alice"), "container:creat", { name: "x" });
      expect(res).toMatchObject({
        ok: false,
        error: {
          code: "UNKNOWN_EVENT",
          category: "validation",
          retryable: false,
          details: { event: "container:creat" },
        },
      });
      expect(res.error?.details?.suggestions).toEqual([
        "container:create",
        expect.any(String),
        expect.any(String),
      ]);
      expect(res.error?.message).toMatch(/no event 'container:creat'; did you mean 'container:create'/);
    });

    it("looks at the first 64 characters of a huge name only, and answers every owner alike", async () => {
      const rawBob = await server.connectRaw("bob");
      // CPU time (client and berth share this process), not the wall clock, which a loaded machine stretches:
      // comparing all 200,000 characters with every event name would cost seconds.
      const { ms, value: res } = await cpuTime(() =>
        emitRaw(rawBob, `containers:watch_stat${"s".repeat(200_000)}`, {}),
      );
      expect(ms).toBeLessThan(2_000);
      expect(res.error?.code).toBe("UNKNOWN_EVENT");
      expect(String(res.error?.details?.event)).toHaveLength(64);
      expect(res.error?.details?.suggestions).toContain("containers:watch_stats");
      expect(res.error?.message.length).toBeLessThan(400);
      // Known events are untouched by the catch-all: answered by their own handler, once.
      expect(await call(rawBob, "container:list", {})).toMatchObject({ ok: true, data: { items: [] } });
      expect(await bob.containers.list().page()).toMatchObject({ items: [] });
    });
  });

  it("lists the allowed images when an image is not allowed", async () => {
    const err = await refused(alice.containers.create({ name: "x", image: "alpine:latest" }));
    expect(err).toMatchObject({
      code: "VALIDATION_FAILED",
      details: {
        field: "image",
        allowedImages: ["berth/runtime-node:24", "berth/runtime-python:3.11", MISSING_IMAGE],
      },
    });
    expect(err.message).toContain("'alpine:latest' is not allowed");
    expect(err.message).toContain(
      `use one of: berth/runtime-node:24, berth/runtime-python:3.11, ${MISSING_IMAGE}`,
    );
  });

  it.each([
    ["env", { env: { BERTH_SOCKET: "/tmp/evil" } }, "env.BERTH_SOCKET", "BERTH_SOCKET", "BERTH_"],
    [
      "secretEnv",
      { secretEnv: { BERTH_TOKEN: "long-enough-secret" } },
      "secretEnv.BERTH_TOKEN",
      "BERTH_TOKEN",
      "BERTH_",
    ],
    ["labels", { labels: { "berth.owner": "bob" } }, "labels.berth.owner", "berth.owner", "'berth.'"],
    [
      "labels (Docker's)",
      { labels: { "com.docker.compose.project": "prod" } },
      "labels.com.docker.compose.project",
      "com.docker.compose.project",
      "'com.docker.'",
    ],
  ])("names the key and the reserved prefix in %s", async (_what, fields, path, key, prefix) => {
    const err = await refused(alice.containers.create({ name: "reserved", ...fields }));
    expect(err.code).toBe("VALIDATION_FAILED");
    expect(err.message).not.toContain("Invalid key in record");
    expect(err.message).toContain(`the key '${key}' is not allowed`);
    expect(err.message).toContain(`prefix ${prefix} is reserved`);
    const issues = err.details?.issues as Array<{ path: string; message: string }>;
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message).toContain("is reserved");
    expect(err.message).not.toContain("long-enough-secret");
  });

  describe("an allowed image that the engine does not have", () => {
    it("is answered IMAGE_NOT_FOUND naming the image, with nothing made", async () => {
      const err = await refused(
        alice.containers.create({ name: "needs-missing", image: MISSING_IMAGE, command: ["true"] }),
      );
      expect(err).toMatchObject({
        code: "IMAGE_NOT_FOUND",
        category: "docker",
        details: { image: MISSING_IMAGE },
      });
      expect(err.message).toContain(`'${MISSING_IMAGE}' is allowed on this server but not present`);
      expect((await alice.containers.list().page()).items).toEqual([]);
      const engine = await docker.listContainers({
        all: true,
        filters: { label: [`berth.instance=${server.berth.instanceId}`] },
      });
      expect(engine).toEqual([]);
    });

    it("was logged at start-up with how to build it, while berth kept serving", () => {
      const lines = server
        .logs()
        .split("\n")
        .filter((l) => l.includes("an allowed image is missing from the engine"));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
        image: MISSING_IMAGE,
        fix: expect.stringContaining("docker build"),
      });
    });
  });

  describe("code without the file the image's default command runs", () => {
    it("is refused at create, naming the missing file", async () => {
      const err = await refused(
        alice.containers.create({ name: "no-entry", code: { files: { "main.js": "console.log('hi')" } } }),
      );
      expect(err).toMatchObject({
        code: "VALIDATION_FAILED",
        details: { field: "code", missing: "index.js" },
      });
      expect(err.message).toContain("The code has no 'index.js'");
      expect((await alice.containers.list().page()).items).toEqual([]);
    });

    it("is accepted when the spec gives its own command", async () => {
      const created = await alice.containers.create({
        name: "own-command",
        command: ["node", "/app/main.js"],
        code: { files: { "main.js": "console.log('hi')" } },
        start: false,
      });
      await created.delete();
    });

    it("is refused at update, and the running release stays", async () => {
      const app = await alice.containers.create({ name: "entry-update", code: await echoCode() });
      await expect(app.update({ files: { "lib/index.js": "1" } })).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
        details: { missing: "index.js" },
      });
      expect((await app.releases()).map((r) => r.number)).toEqual([1]);
      await app.delete();
    });
  });

  it("gives never_connected the workload's last output lines, redacted with its owner's secrets only", async () => {
    // bob's secret is a word alice's workload prints: it is not hidden from alice (per-owner redaction).
    const bobs = await bob.containers.create({
      name: "bobs-app",
      secretEnv: { API_TOKEN: "the-database" },
      start: false,
    });
    const err = await refused(
      alice.containers.create({
        name: "never-connects",
        secretEnv: { DB_PASSWORD: "hunter2-secret-value" },
        code: {
          files: {
            "index.js":
              "console.log('waiting for the-database'); console.log('with ' + process.env.DB_PASSWORD); setInterval(() => {}, 1e6);",
          },
        },
      }),
    );
    expect(err).toMatchObject({ code: "NOT_READY", details: { cause: "never_connected" } });
    expect(err.details?.output).toEqual(["waiting for the-database", "with [REDACTED]"]);
    expect(err.message).toContain("BERTH_SOCKET");
    await (await alice.containers.get(err.details?.containerId as string)).delete();
    await bobs.delete();
  });

  it("gives a rollback's output the failed release's lines only", async () => {
    const app = await alice.containers.create({
      name: "rolls-back",
      code: versioned("v1", { prelude: "console.log('v1 line before the update');" }),
    });
    const err = await refused(
      app.update(versioned("v2", { prelude: "console.error('v2 cannot start'); process.exit(3);" })),
    );
    expect(err).toMatchObject({ code: "UPDATE_ROLLED_BACK", details: { cause: "exited", exitCode: 3 } });
    expect(err.details?.output).toEqual(["v2 cannot start"]);
    await app.delete();
  });

  it("answers a create with a health that its health_changed pushes say, and pushes each from the one before", async () => {
    const seen: HealthChangedEvent[] = [];
    const off = alice.on("container:health_changed", (e: HealthChangedEvent) => {
      if (e.name === "healthy-app") seen.push(e);
    });
    try {
      const created = await alice.containers.create({ name: "healthy-app", code: await echoCode() });
      // Never a health the client is not pushed: a new container's, or one a health_changed says. (Which push
      // came first is not observable here: the answer and a push that follows it can arrive in one frame, and
      // the push's listener then runs before the awaited create resumes.)
      await eventually(10_000, "a healthy push", () => seen.at(-1)?.health === "healthy");
      expect(["none", ...seen.map((e) => e.health)]).toContain(created.info.health);
      // Each push goes on from the one before.
      expect(seen.map((e) => e.previous)).toEqual(["none", ...seen.slice(0, -1).map((e) => e.health)]);
      await created.delete();
    } finally {
      off();
    }
  });

  it("tells a refused handshake how to pass the token, through the SDK's connect", async () => {
    await expect(connect(server.url, { token: "wrong-token-000", reconnect: false })).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      category: "auth",
      retryable: false,
      message: expect.stringContaining("auth: { token"),
    });
  });

  // The handshake's refusal as it travels (connect_error's data): a wire test, on a bare socket.
  it("tells a refused handshake how to pass the token, with the code unchanged", async () => {
    const client = io(server.url, {
      auth: { token: "wrong-token-000" },
      transports: ["websocket"],
      reconnection: false,
    });
    try {
      const err = await new Promise<Error & { data?: unknown }>((resolve) =>
        client.once("connect_error", resolve),
      );
      expect(err.data).toMatchObject({ code: "UNAUTHORIZED", category: "auth", retryable: false });
      expect(err.message).toContain("auth: { token");
    } finally {
      client.disconnect();
    }
  });
});
