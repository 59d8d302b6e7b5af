import { rename } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { createServer } from "node:net";
import { inspect } from "node:util";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DockerError, DockerUnavailableError, NotFoundError } from "../errors/errors.ts";
import { RetryPolicy } from "../util/retry-policy.ts";
import type { EngineEvent } from "./docker-client.ts";
import { DockerodeClient, type DockerodeClientOptions } from "./dockerode-client.ts";
import { FakeEngine } from "./testing/fake-engine.ts";
import { isTransient } from "./to-docker-error.ts";

/**
 * The dockerode adapter's failure paths, driven through the real dockerode
 * client against a fake engine on a real Unix socket (testing/fake-engine.ts):
 * what each way the engine can fail becomes, and which are retried.
 */

const ATTEMPTS = 3;

let engine: FakeEngine;
let downReports: unknown[];
let calls: { op: string; error: unknown }[];
let gateDown: boolean;

beforeEach(async () => {
  engine = await FakeEngine.start();
  downReports = [];
  calls = [];
  gateDown = false;
});

afterEach(async () => {
  await engine.close();
});

function client(options: Partial<DockerodeClientOptions> = {}): DockerodeClient {
  return new DockerodeClient({
    socketPath: engine.socketPath,
    log: pino({ level: "silent" }),
    // Quick retries: the attempts are counted, not the time between them.
    retry: new RetryPolicy({
      maxAttempts: ATTEMPTS,
      baseDelayMs: 1,
      maxDelayMs: 1,
      maxTotalMs: 10_000,
      isRetryable: isTransient,
    }),
    gate: { isDown: () => gateDown, reportDown: (err) => downReports.push(err) },
    onCall: (op, error) => calls.push({ op, error }),
    ...options,
  });
}

const inspectPath = /^\/containers\/c1\/json$/;
const notFound = { message: "No such container: c1" };

/** A chunked answer that sends `chunks`, then cuts the connection before its end. */
function breaksAfter(chunks: string[]) {
  return (_req: unknown, res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    for (const chunk of chunks) res.write(chunk);
    // Let the chunks leave before the cut, as an engine that dies mid-answer would.
    setTimeout(() => res.socket?.destroy(), 50);
  };
}

describe("the dockerode client when the engine is not there", () => {
  it("reports DOCKER_UNAVAILABLE when nothing listens on the engine's socket (ECONNREFUSED), after its retries", async () => {
    // A socket file whose listener is gone: renamed away before the server closes, so close() cannot remove it.
    const dead = `${engine.socketPath}.dead`;
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(`${engine.socketPath}.tmp`, resolve));
    await rename(`${engine.socketPath}.tmp`, dead);
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const err = await client({ socketPath: dead })
      .inspectContainer("c1")
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DockerUnavailableError);
    expect((err as DockerUnavailableError).details).toEqual({ op: "container inspect" });
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    expect(downReports).toEqual([err]);
    // Told once, however many attempts it took.
    expect(calls).toEqual([{ op: "container inspect", error: err }]);
  });

  it("reports DOCKER_UNAVAILABLE when the engine's socket does not exist (ENOENT)", async () => {
    const err = await client({ socketPath: `${engine.socketPath}.missing` })
      .listContainers({ "berth.instance": "x" })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DockerUnavailableError);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe("ENOENT");
  });

  it("fails at once, without asking the engine, while the outage gate says it is down", async () => {
    gateDown = true;

    await expect(client().ping()).rejects.toBeInstanceOf(DockerUnavailableError);

    expect(engine.requests).toEqual([]);
  });

  it("reports DOCKER_UNAVAILABLE when the engine hangs up mid-request, and retries it", async () => {
    engine.route("GET", inspectPath, (_req, res) => res.socket?.destroy());

    await expect(client().inspectContainer("c1")).rejects.toBeInstanceOf(DockerUnavailableError);

    expect(engine.requests).toHaveLength(ATTEMPTS);
  });

  it("counts a probe the engine does not answer within its 2 s as the engine down, without retrying", async () => {
    engine.route("GET", /^\/version$/, () => {
      // Never answered: an engine that accepts connections but is stuck.
    });
    const started = performance.now();

    const err = await client()
      .probe()
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DockerUnavailableError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(engine.requests).toEqual(["GET /version"]);
    expect(calls).toEqual([{ op: "probe", error: err }]);
  });
});

describe("the dockerode client when the engine answers with a failure", () => {
  it("answers undefined for a container the engine does not know (404), asking once", async () => {
    engine.route("GET", inspectPath, (_req, res) => FakeEngine.json(res, 404, notFound));

    await expect(client().inspectContainer("c1")).resolves.toBeUndefined();

    expect(engine.requests).toEqual(["GET /containers/c1/json"]);
    expect(calls).toEqual([{ op: "container inspect", error: undefined }]);
  });

  it("turns a 404 into NOT_FOUND where absence is no answer, without retrying", async () => {
    engine.route("POST", /^\/containers\/c1\/start$/, (_req, res) => FakeEngine.json(res, 404, notFound));

    const err = await client()
      .startContainer("c1")
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).details).toEqual({ op: "container start" });
    expect(engine.requests).toHaveLength(1);
    expect(downReports).toEqual([]);
  });

  it("takes removing a container that is already gone (404) as done", async () => {
    engine.route("DELETE", /^\/containers\/c1$/, (_req, res) => FakeEngine.json(res, 404, notFound));

    await expect(client().removeContainer("c1")).resolves.toBeUndefined();
  });

  it("keeps a conflict (409) as DOCKER_ERROR with the engine's status, not retried, in words a person can read", async () => {
    engine.route("POST", /^\/containers\/c1\/update$/, (_req, res) =>
      FakeEngine.json(res, 409, { message: "Cannot update container c1: container is marked for removal" }),
    );

    const err = await client()
      .updateCpuLimit("c1", 1e9)
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DockerError);
    expect(err).toMatchObject({ code: "DOCKER_ERROR", statusCode: 409, retryable: false });
    expect((err as Error).message).toBe("The container engine could not change the container's CPU limit.");
    // The engine's own text stays in the cause, for the system log only.
    expect((err as Error).message).not.toContain("marked for removal");
    expect(engine.requests).toHaveLength(1);
  });

  it("retries a server error (500) and succeeds when the engine recovers", async () => {
    engine.route("GET", inspectPath, (_req, res, n) =>
      n === 1 ? FakeEngine.json(res, 500, { message: "boom" }) : FakeEngine.json(res, 200, { Id: "c1" }),
    );

    await expect(client().inspectContainer("c1")).resolves.toMatchObject({ Id: "c1" });

    expect(engine.requests).toHaveLength(2);
    expect(calls).toEqual([{ op: "container inspect", error: undefined }]);
  });

  it("gives up on a server error that lasts, after its attempts, as a retryable DOCKER_ERROR", async () => {
    engine.route("GET", /^\/containers\/json$/, (_req, res) =>
      FakeEngine.json(res, 500, { message: "boom" }),
    );

    const err = await client()
      .listContainers({})
      .catch((e: unknown) => e);

    expect(err).toMatchObject({ code: "DOCKER_ERROR", statusCode: 500, retryable: true });
    expect((err as Error).message).toBe("The container engine could not list containers.");
    expect(engine.requests).toHaveLength(ATTEMPTS);
    // The engine answered: it is not down.
    expect(downReports).toEqual([]);
  });

  it("adopts the container its own lost create made (a 500, then a 409 for its name)", async () => {
    engine
      .route("POST", /^\/containers\/create$/, (_req, res, n) =>
        n === 1
          ? FakeEngine.json(res, 500, { message: "lost on the way back" })
          : FakeEngine.json(res, 409, { message: "Conflict. The container name is already in use" }),
      )
      .route("GET", /^\/containers\/berth-c1\/json$/, (_req, res) =>
        FakeEngine.json(res, 200, { Id: "d1", Config: { Labels: { "berth.id": "c1" } } }),
      );

    await expect(
      client().createContainer({ name: "berth-c1", Image: "img", Labels: { "berth.id": "c1" } }),
    ).resolves.toBe("d1");
  });

  it("does not adopt another container that holds the name (409 on a retry, other labels)", async () => {
    engine
      .route("POST", /^\/containers\/create$/, (_req, res, n) =>
        n === 1
          ? FakeEngine.json(res, 500, { message: "lost on the way back" })
          : FakeEngine.json(res, 409, { message: "Conflict" }),
      )
      .route("GET", /^\/containers\/berth-c1\/json$/, (_req, res) =>
        FakeEngine.json(res, 200, { Id: "d9", Config: { Labels: { "berth.id": "c9" } } }),
      );

    await expect(
      client().createContainer({ name: "berth-c1", Image: "img", Labels: { "berth.id": "c1" } }),
    ).rejects.toMatchObject({ code: "DOCKER_ERROR", statusCode: 409 });
  });

  it("takes a start of a running container (304) as no change rather than a failure", async () => {
    engine.route("POST", /^\/containers\/c1\/start$/, (_req, res) => {
      res.writeHead(304);
      res.end();
    });

    await expect(client().startContainer("c1")).resolves.toBe(false);
  });

  it("reports a wait the engine fails as DOCKER_ERROR, and an aborted wait as the abort's reason", async () => {
    engine.route("POST", /^\/containers\/c1\/wait$/, (_req, res) =>
      FakeEngine.json(res, 500, { message: "boom" }),
    );
    await expect(client().waitForExit("c1", new AbortController().signal)).rejects.toMatchObject({
      code: "DOCKER_ERROR",
      statusCode: 500,
    });

    engine.route("POST", /^\/containers\/c2\/wait$/, () => {
      // Waits for an exit that never comes.
    });
    const abort = new AbortController();
    const waiting = client().waitForExit("c2", abort.signal);
    const reason = new Error("stopped waiting");
    abort.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});

describe("the dockerode client when a stream from the engine breaks", () => {
  const event = (id: string) =>
    `${JSON.stringify({ Action: "die", Actor: { ID: id, Attributes: { exitCode: "3" } }, timeNano: 5e15 })}\n`;

  it("delivers the events that came before the break, then fails the subscription as DOCKER_UNAVAILABLE", async () => {
    engine.route("GET", /^\/events$/, breaksAfter([event("d1"), event("d2")]));
    const seen: EngineEvent[] = [];

    const subscription = await client().streamEvents({}, 0, (e) => seen.push(e));

    await expect(subscription.done).rejects.toBeInstanceOf(DockerUnavailableError);
    expect(seen.map((e) => [e.dockerId, e.exitCode])).toEqual([
      ["d1", 3],
      ["d2", 3],
    ]);
  });

  it("fails a subscription whose stream broke before anyone awaited it without an unhandled rejection", async () => {
    engine.route("GET", /^\/events$/, breaksAfter([event("d1")]));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const subscription = await client().streamEvents({}, 0, () => {});
      // Watched without a handler of its own (inspect attaches none), as a subscriber busy elsewhere leaves it.
      await expect.poll(() => inspect(subscription.done), { timeout: 5_000 }).toContain("<rejected>");
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      await expect(subscription.done).rejects.toBeInstanceOf(DockerUnavailableError);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("ends a subscription closed by berth without an error", async () => {
    engine.route("GET", /^\/events$/, (_req, res) => {
      res.writeHead(200);
      res.write(event("d1"));
    });
    const subscription = await client().streamEvents({}, 0, () => {});

    subscription.close();

    await expect(subscription.done).resolves.toBeUndefined();
  });

  it("fails a log read cut off midway, rather than passing on part of the output as all of it", async () => {
    engine.route("GET", /^\/containers\/c1\/logs$/, breaksAfter(["part of the output"]));
    const chunks: string[] = [];

    const err = await client()
      .readLogs("c1", { tail: 10 }, (c) => chunks.push(c.toString()))
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(DockerUnavailableError);
    expect(chunks.join("")).toBe("part of the output");
  });

  it("ends a followed log quietly when the engine cuts it (the follower is told by its end)", async () => {
    engine.route("GET", /^\/containers\/c1\/logs$/, breaksAfter(["line\n"]));

    const subscription = await client().followLogs("c1", { tail: 1 }, () => {});

    await expect(subscription.done).resolves.toBeUndefined();
  });
});
