import { io } from "socket.io-client";
import { beforeAll, describe, expect, it } from "vitest";
import type { HealthChangedEvent, WireError } from "#protocol";
import { type Client, call, docker, echoCode, ok, useTestServer } from "../helpers/test-server.ts";
import { versioned } from "../helpers/versioned.ts";

/** Emits any event name with an acknowledgement, as a client with a typo in it would. */
function emitRaw(
  client: Client,
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
    BERTH_READY_TIMEOUT_MS: "3000",
  });
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    alice = await server.connect("alice");
    bob = await server.connect("bob");
  });

  describe("an unknown event sent with an acknowledgement", () => {
    it("is answered at once with UNKNOWN_EVENT naming the nearest events", async () => {
      const res = await emitRaw(alice, "container:creat", { name: "x" });
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
      const started = performance.now();
      const res = await emitRaw(bob, `containers:watch_stat${"s".repeat(200_000)}`, {});
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(res.error?.code).toBe("UNKNOWN_EVENT");
      expect(String(res.error?.details?.event)).toHaveLength(64);
      expect(res.error?.details?.suggestions).toContain("containers:watch_stats");
      expect(res.error?.message.length).toBeLessThan(400);
      // Known events are untouched by the catch-all: answered by their own handler, once.
      expect(await ok(bob, "container:list", {})).toMatchObject({ items: [] });
    });
  });

  it("lists the allowed images when an image is not allowed", async () => {
    const res = await call(alice, "container:create", { name: "x", image: "alpine:latest" });
    expect(res).toMatchObject({
      ok: false,
      error: {
        code: "VALIDATION_FAILED",
        details: { field: "image", allowedImages: ["berth/runtime-node:24", MISSING_IMAGE] },
      },
    });
    if (!res.ok) {
      expect(res.error.message).toContain("'alpine:latest' is not allowed");
      expect(res.error.message).toContain(`use one of: berth/runtime-node:24, ${MISSING_IMAGE}`);
    }
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
    const res = await call(alice, "container:create", { name: "reserved", ...fields });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.code).toBe("VALIDATION_FAILED");
    expect(res.error.message).not.toContain("Invalid key in record");
    expect(res.error.message).toContain(`the key '${key}' is not allowed`);
    expect(res.error.message).toContain(`prefix ${prefix} is reserved`);
    const issues = res.error.details?.issues as Array<{ path: string; message: string }>;
    expect(issues[0]?.path).toBe(path);
    expect(issues[0]?.message).toContain("is reserved");
    expect(res.error.message).not.toContain("long-enough-secret");
  });

  describe("an allowed image that the engine does not have", () => {
    it("is answered IMAGE_NOT_FOUND naming the image, with nothing made", async () => {
      const res = await call(alice, "container:create", {
        name: "needs-missing",
        image: MISSING_IMAGE,
        command: ["true"],
      });
      expect(res).toMatchObject({
        ok: false,
        error: { code: "IMAGE_NOT_FOUND", category: "docker", details: { image: MISSING_IMAGE } },
      });
      if (!res.ok)
        expect(res.error.message).toContain(`'${MISSING_IMAGE}' is allowed on this server but not present`);
      expect((await ok(alice, "container:list", {})).items).toEqual([]);
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
      const res = await call(alice, "container:create", {
        name: "no-entry",
        code: { files: { "main.js": "console.log('hi')" } },
      });
      expect(res).toMatchObject({
        ok: false,
        error: { code: "VALIDATION_FAILED", details: { field: "code", missing: "index.js" } },
      });
      if (!res.ok) expect(res.error.message).toContain("The code has no 'index.js'");
      expect((await ok(alice, "container:list", {})).items).toEqual([]);
    });

    it("is accepted when the spec gives its own command", async () => {
      const created = await ok(alice, "container:create", {
        name: "own-command",
        command: ["node", "/app/main.js"],
        code: { files: { "main.js": "console.log('hi')" } },
        start: false,
      });
      await ok(alice, "container:delete", { id: created.id });
    });

    it("is refused at update, and the running release stays", async () => {
      const app = await ok(alice, "container:create", { name: "entry-update", code: await echoCode() });
      const res = await call(alice, "container:update", {
        id: app.id,
        code: { files: { "lib/index.js": "1" } },
      });
      expect(res).toMatchObject({
        ok: false,
        error: { code: "VALIDATION_FAILED", details: { missing: "index.js" } },
      });
      const { items } = await ok(alice, "container:releases", { id: app.id });
      expect(items.map((r) => r.number)).toEqual([1]);
      await ok(alice, "container:delete", { id: app.id });
    });
  });

  it("gives never_connected the workload's last output lines, redacted with its owner's secrets only", async () => {
    // bob's secret is a word alice's workload prints: it is not hidden from alice (per-owner redaction).
    const bobs = await ok(bob, "container:create", {
      name: "bobs-app",
      secretEnv: { API_TOKEN: "the-database" },
      start: false,
    });
    const res = await call(alice, "container:create", {
      name: "never-connects",
      secretEnv: { DB_PASSWORD: "hunter2-secret-value" },
      code: {
        files: {
          "index.js":
            "console.log('waiting for the-database'); console.log('with ' + process.env.DB_PASSWORD); setInterval(() => {}, 1e6);",
        },
      },
    });
    expect(res).toMatchObject({
      ok: false,
      error: { code: "NOT_READY", details: { cause: "never_connected" } },
    });
    if (!res.ok) {
      expect(res.error.details?.output).toEqual(["waiting for the-database", "with [REDACTED]"]);
      expect(res.error.message).toContain("BERTH_SOCKET");
      await ok(alice, "container:delete", { id: res.error.details?.containerId as string });
    }
    await ok(bob, "container:delete", { id: bobs.id });
  });

  it("gives a rollback's output the failed release's lines only", async () => {
    const app = await ok(alice, "container:create", {
      name: "rolls-back",
      code: versioned("v1", { prelude: "console.log('v1 line before the update');" }),
    });
    const res = await call(alice, "container:update", {
      id: app.id,
      code: versioned("v2", { prelude: "console.error('v2 cannot start'); process.exit(3);" }),
    });
    expect(res).toMatchObject({
      ok: false,
      error: { code: "UPDATE_ROLLED_BACK", details: { cause: "exited", exitCode: 3 } },
    });
    if (!res.ok) expect(res.error.details?.output).toEqual(["v2 cannot start"]);
    await ok(alice, "container:delete", { id: app.id });
  });

  it("answers a create with the health that the last health_changed reported", async () => {
    const seen: HealthChangedEvent[] = [];
    const onHealth = (e: HealthChangedEvent) => {
      if (e.name === "healthy-app") seen.push(e);
    };
    alice.on("container:health_changed", onHealth);
    try {
      const created = await ok(alice, "container:create", { name: "healthy-app", code: await echoCode() });
      expect(seen.length).toBeGreaterThan(0);
      expect(created.health).toBe(seen.at(-1)?.health);
      await ok(alice, "container:delete", { id: created.id });
    } finally {
      alice.off("container:health_changed", onHealth);
    }
  });

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
