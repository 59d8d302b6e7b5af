import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerSpec } from "#protocol";
import { type Container, connect as connectClient } from "../../packages/client/src/index.ts";
import { type BerthProcess, secretKeyFileBeside, spawnBerth } from "../helpers/berth-process.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { type Client, docker, removeInstance, TOKENS, useTestServer } from "../helpers/test-server.ts";

type Runtime = "node" | "python";

const IMAGES: Record<Runtime, string> = {
  node: "berth/runtime-node:24",
  python: "berth/runtime-python:3.11",
};

/**
 * How every container of this suite picks its runtime: by name, as a user
 * would; the image (and its default command, `node index.js` /
 * `python3 main.py`) follows from the server's configuration.
 */
const runtimeSpec = (runtime: Runtime): Partial<ContainerSpec> => ({ runtime });

const fixture = (name: string) => readFile(new URL(`../fixtures/workloads/${name}`, import.meta.url), "utf8");

interface Broken {
  what: string;
  code: string;
  /** The line that names the error, as the failed release printed it. */
  error: string;
}

interface RuntimeCase {
  runtime: Runtime;
  entry: string;
  source: Promise<string>;
  /** The last line a failed start prints: Node.js its version after the stack; Python the error itself. */
  lastLine: (broken: Broken) => string | RegExp;
  /** What a stack or traceback shows that an error response must not. */
  traceMarks: string[];
  broken: Broken[];
}

const CASES: RuntimeCase[] = [
  {
    runtime: "node",
    entry: "index.js",
    source: fixture("runtime-suite.js"),
    lastLine: () => /^Node\.js v24\./,
    traceMarks: ["    at ", "index.js:"],
    broken: [
      {
        what: "throws at start",
        code: 'throw new Error("broken at start: no config");\n',
        error: "Error: broken at start: no config",
      },
      {
        what: "has a syntax error",
        code: "function (\n",
        error: "SyntaxError: Function statements require a function name",
      },
    ],
  },
  {
    runtime: "python",
    entry: "main.py",
    source: fixture("runtime_suite.py"),
    lastLine: (broken) => broken.error,
    traceMarks: ["Traceback", 'File "', "main.py"],
    broken: [
      {
        what: "raises at import",
        code: "import berth_workload\n\nRATE = 1 / 0\n",
        error: "ZeroDivisionError: division by zero",
      },
      { what: "has a syntax error", code: "def broken(:\n    pass\n", error: "SyntaxError: invalid syntax" },
    ],
  },
];

async function specOf(c: RuntimeCase, name: string): Promise<ContainerSpec> {
  return { name, ...runtimeSpec(c.runtime), code: { files: { [c.entry]: await c.source } } };
}

/** The engine's view of a berth container: its uid, and whether its process ever stopped. */
async function engineState(id: string) {
  const inspect = await docker.getContainer(`berth-${id}`).inspect();
  return {
    user: inspect.Config.User,
    running: inspect.State.Running,
    startedAt: inspect.State.StartedAt,
    restartCount: inspect.RestartCount,
  };
}

/**
 * Subscribes to the container's messages (awaited, so that nothing sent after it is missed) and
 * resolves `message` with the first that matches, then unsubscribes.
 */
async function nextMessage(
  bot: Container,
  match: (data: unknown) => boolean,
): Promise<{ message: Promise<{ id: string; data: unknown }> }> {
  const { promise, resolve } = Promise.withResolvers<{ id: string; data: unknown }>();
  const off = bot.onMessage((data, event) => {
    if (match(data)) resolve({ id: event.id, data: event.data });
  });
  await off.ready;
  // Wrapped: an async function would otherwise wait for the message itself.
  return { message: within(10_000, "a message from the workload", promise).finally(off) };
}

describe.each(CASES)("a $runtime workload written with its SDK", (c) => {
  const server = useTestServer();
  let alice: Client;
  let bot: Container;
  const name = `suite-${c.runtime}`;

  beforeAll(async () => {
    alice = await server.connect("alice");
    // Shared by the tests below: none of them leaves it other than running its first release.
    bot = await alice.containers.create(await specOf(c, name));
  });
  afterAll(async () => {
    await bot?.delete();
  });

  it("is created until ready, running its release 1 in the runtime's image", async () => {
    expect(bot.info).toMatchObject({
      state: "running",
      image: IMAGES[c.runtime],
      runtime: c.runtime,
      release: 1,
      channel: { connected: true },
    });
    expect(await bot.request({ op: "echo", data: { text: "grüße ✓", n: [1, 2] } })).toEqual({
      text: "grüße ✓",
      n: [1, 2],
    });
  });

  it("answers 1,000 requests in flight in the order they finish, each with its own answer", async () => {
    // Every request sleeps until a moment of its own, set on the shared clock far enough ahead that all
    // 1,000 have arrived by then: five rounds 100 ms apart, the first-sent request in the last round.
    // A request that arrives after its moment says so (a loaded machine may take longer than the lead to
    // deliver them all): the order then proves nothing, and the round is run again with a longer lead.
    const COUNT = 1000;
    const ROUNDS = 5;
    const roundOf = (n: number) => ROUNDS - 1 - (n % ROUNDS);
    const isLate = (answer: unknown) => (answer as { late?: boolean } | null)?.late === true;
    let arrived: number[] = [];
    let answers: unknown[] = [];
    for (const leadMs of [2_000, 6_000, 15_000]) {
      const start = Date.now() + leadMs;
      arrived = [];
      answers = await Promise.all(
        Array.from({ length: COUNT }, (_, n) =>
          bot
            .request({ op: "sleep", n, until: start + roundOf(n) * 100 }, { timeoutMs: 20_000 + leadMs })
            .then((answer) => {
              arrived.push(n);
              return answer;
            }),
        ),
      );
      if (!answers.some(isLate)) break;
    }
    expect(answers.filter(isLate), "requests that arrived after their moment, even with a 15 s lead").toEqual(
      [],
    );
    expect(answers).toEqual(Array.from({ length: COUNT }, (_, n) => n));
    const rounds = arrived.map(roundOf);
    expect(rounds).toEqual([...rounds].sort((a, b) => a - b));
    expect(arrived[0]).not.toBe(0);
  });

  it("carries messages both ways: pushed to its owner, and from its owner back", async () => {
    const pushed = await nextMessage(bot, (data) => JSON.stringify(data) === '{"from":"workload"}');
    expect(await bot.request({ op: "send", data: { from: "workload" } })).toBe(true);
    expect(await pushed.message).toEqual({ id: bot.id, data: { from: "workload" } });

    const echoed = await nextMessage(bot, (data) => (data as { echoed?: unknown }).echoed !== undefined);
    await bot.send({ to: "workload", n: 7 });
    expect(await echoed.message).toEqual({ id: bot.id, data: { echoed: { to: "workload", n: 7 } } });
  });

  it("answers a handler's exception as WORKLOAD_ERROR with its message and no traceback", async () => {
    const message = "no forecast for Atlantis";
    const err = await bot.request({ op: "raise", message }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "WORKLOAD_ERROR", details: { message } });
    const text = JSON.stringify({ ...(err as object), message: (err as Error).message });
    for (const mark of c.traceMarks) expect(text, `${mark} in the answer`).not.toContain(mark);
    // And it goes on serving.
    expect(await bot.request({ op: "echo", data: "still here" })).toBe("still here");
  });

  it("reports its resource usage", async () => {
    const usage = await bot.stats();
    expect(usage.memoryBytes).toBeGreaterThan(0);
    expect(usage.pids).toBeGreaterThanOrEqual(1);
  });

  it("runs confined, as read from inside: its own uid, no capabilities, read-only root, no network, no shell", async () => {
    const seen = (await bot.request({ op: "hardening" })) as Record<string, unknown>;
    const { user } = await engineState(bot.id);
    const [uid, gid] = (user ?? "").split(":").map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(seen).toEqual({
      uid,
      gid,
      capEff: "0000000000000000",
      noNewPrivs: "1",
      writeRoot: "EROFS",
      writeTmp: "ok",
      interfaces: ["lo"],
      shell: false,
    });
    expect(gid).toBe(uid);
  });

  it("is invisible to another owner", async () => {
    const bob = await server.connect("bob");
    await expect(bob.containers.get(name)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(bob.containers.get(bot.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it.each(c.broken)(
    "rolls back an update whose code $what, showing the error's last lines",
    async (broken) => {
      const before = (await bot.status()).release;
      const err = await bot.update({ files: { [c.entry]: broken.code } }).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: "UPDATE_ROLLED_BACK",
        details: { failedStep: "ready", cause: "exited", exitCode: 1, restoredRelease: before },
      });
      // Whole, to its last line: nothing of the error cut off.
      const output = (err as { details: { output: string[] } }).details.output;
      expect(output).toContain(broken.error);
      expect(output.filter((line) => line.trim() !== "").at(-1)).toMatch(c.lastLine(broken));
      expect(await bot.status()).toMatchObject({ state: "running", release: before });
      expect(await bot.request({ op: "echo", data: "back" })).toBe("back");
    },
  );
});

describe.each(CASES)("a $runtime workload when berth is killed with SIGKILL", (c) => {
  let dataDir: string;
  let berth: BerthProcess | undefined;
  let env: Record<string, string>;
  const clients: Client[] = [];
  const connect = async (url: string) => {
    const client = await connectClient(url, { token: TOKENS.alice, reconnect: false });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "rs-"));
    env = {
      BERTH_DATA_DIR: dataDir,
      BERTH_TOKENS: `alice:${TOKENS.alice}`,
      BERTH_ADMIN_TOKEN: TOKENS.admin,
      BERTH_STOP_TIMEOUT_SEC: "1",
    };
  });
  afterAll(async () => {
    for (const client of clients) await client.close();
    await berth?.kill("SIGKILL");
    const instanceId = (await readFile(join(dataDir, "instance-id"), "utf8").catch(() => "")).trim();
    if (instanceId) await removeInstance(instanceId);
    await rm(dataDir, { recursive: true, force: true });
    await rm(secretKeyFileBeside(dataDir), { force: true });
  });

  it("keeps running meanwhile, reconnects to the next berth on the same data, and answers again", async () => {
    berth = await spawnBerth(env);
    let alice = await connect(berth.url);
    const made = await alice.containers.create(await specOf(c, `survivor-${c.runtime}`));
    expect(await made.request({ op: "echo", data: "before" })).toBe("before");
    const before = await engineState(made.id);

    await berth.kill("SIGKILL");
    berth = await spawnBerth(env);
    alice = await connect(berth.url);
    const survivor = await alice.containers.get(made.id);
    // The SDK reconnects with back-off (at most 5 s between tries): asked until it answers.
    await eventually(30_000, "an answer from the reconnected workload", async () => {
      const answer = await survivor
        .request({ op: "echo", data: "after" }, { timeoutMs: 2000 })
        .catch(() => "");
      return answer === "after" || "no answer yet";
    });
    expect(await survivor.status()).toMatchObject({ state: "running", channel: { connected: true } });
    // Its process never stopped: the engine started it once, and never again.
    expect(await engineState(made.id)).toEqual({ ...before, running: true, restartCount: 0 });
  });
});
