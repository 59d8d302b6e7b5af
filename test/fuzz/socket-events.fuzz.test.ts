import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClientEvent, ERROR_CODES } from "#protocol";
import { within } from "../helpers/deadline.ts";
import { reportReliability } from "../helpers/reliability-report.ts";
import { call, docker, echoCode, ok, type RawClient, useTestServer } from "../helpers/test-server.ts";
import { FUZZ_RUNS, fuzzParameters } from "./fuzz-settings.ts";
import { hostileValue, mutated } from "./hostile-values.ts";

/**
 * Hostile input, generated: for every client→server event of the contract,
 * generated and mutated payloads over a bare Socket.IO socket. berth answers
 * each with a documented envelope in time, never crashes or hangs, pollutes
 * no prototype in its process (it runs in this one), makes no container a
 * valid create would not, and keeps its heap roughly flat.
 *
 * The table is typed over every event of the contract, so a new event that
 * is not listed here fails to compile. `live` says the payload may name the
 * running echo container (events that do not change it); the others name a
 * container that does not exist, so no generated case stops, updates or
 * deletes a real one.
 */
type Base = (id: string) => Record<string, unknown>;
const EVENTS: Record<ClientEvent, { base: Base; live?: true }> = {
  // Invalid as a base (its code is no upload): a mutation that makes it valid is rare, counted and cleaned up.
  "container:create": { base: () => ({ name: "fuzz-made", code: { files: "index.js" }, memoryMb: 64 }) },
  "container:list": { base: () => ({ filter: { status: "running" } }) },
  "containers:watch_stats": { base: () => ({ intervalMs: 1000 }) },
  "containers:unwatch_stats": { base: () => ({}) },
  "container:start": { base: (id) => ({ id, waitReady: false }) },
  "container:stop": { base: (id) => ({ id, timeoutSec: 0 }) },
  "container:restart": { base: (id) => ({ id, timeoutSec: 0 }) },
  "container:delete": { base: (id) => ({ id }) },
  "container:status": { base: (id) => ({ id, spec: true }), live: true },
  "container:send": { base: (id) => ({ id, data: { probe: true } }), live: true },
  "container:request": { base: (id) => ({ id, data: { probe: true }, timeoutMs: 2000 }), live: true },
  "container:subscribe": { base: (id) => ({ id }), live: true },
  "container:unsubscribe": { base: (id) => ({ id }), live: true },
  "container:update": { base: (id) => ({ id, code: { files: { "index.js": "// fuzz" } } }) },
  "container:rollback": { base: (id) => ({ id }) },
  "container:releases": { base: (id) => ({ id }), live: true },
  "container:stats": { base: (id) => ({ id }), live: true },
  "container:watch_stats": { base: (id) => ({ id, intervalMs: 1000 }), live: true },
  "container:unwatch_stats": { base: (id) => ({ id }), live: true },
  "container:stats_history": { base: (id) => ({ id }), live: true },
  "containers:stats_history": { base: () => ({}) },
  "container:logs": { base: (id) => ({ id, tail: 10 }), live: true },
  "container:follow_logs": { base: (id) => ({ id }), live: true },
  "container:unfollow_logs": { base: (id) => ({ id }), live: true },
  "activity:history": { base: (containerId) => ({ containerId, limit: 5 }), live: true },
  "server:info": { base: () => ({}) },
  // alice is refused FORBIDDEN whatever she sends; the admin is not fuzzed here (a valid check pulls an image).
  "image:check": { base: () => ({ image: "berth/runtime-node:24" }) },
};

const NO_SUCH_ID = "C00000000000";
/** An answer slower than this is a hang (a request to the echo container asks at most 2 s of it). */
const ACK_BOUND_MS = 15_000;

type Emit = (event: string, ...args: unknown[]) => Promise<unknown>;

function expectDocumentedEnvelope(answer: unknown): void {
  expect(answer).toBeTypeOf("object");
  const a = answer as { ok?: unknown; data?: unknown; error?: { code?: unknown } };
  if (a.ok === true) {
    expect(a).toHaveProperty("data");
    return;
  }
  expect(a.ok).toBe(false);
  expect(
    Object.hasOwn(ERROR_CODES, String(a.error?.code)),
    `undocumented code ${String(a.error?.code)}`,
  ).toBe(true);
}

/** Answers by event and code, printed with BERTH_FUZZ_TALLY=1: what the generated cases reached. */
const tallies = new Map<string, number>();
function tally(event: string, answer: unknown): void {
  const a = answer as { ok: boolean; error?: { code: string } };
  const key = `${event} ${a.ok ? "ok" : a.error?.code}`;
  tallies.set(key, (tallies.get(key) ?? 0) + 1);
}

function prototypeKeys(): string[] {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype].flatMap((p) =>
    Reflect.ownKeys(p).map(String),
  );
}

function gc(): void {
  v8.setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

describe("hostile input, generated, on every client event", () => {
  // The handshake budget per address lifted: the handshake property below opens hundreds from one address.
  const server = useTestServer({ BERTH_HANDSHAKES_PER_MINUTE: "0" });
  let alice: RawClient;
  let liveId: string;
  let createdOk = 0;
  const protoBefore = prototypeKeys();
  let heapBefore = 0;

  beforeAll(async () => {
    alice = await server.connectRaw("alice");
    liveId = (await ok(alice, "container:create", { name: "fuzz-echo", code: await echoCode() })).id;
    gc();
    heapBefore = process.memoryUsage().heapUsed;
  });

  afterAll(async () => {
    if (process.env.BERTH_FUZZ_TALLY) console.log([...tallies].map(([k, n]) => `${k}: ${n}`).join("\n"));
    // Whatever a (rare) valid create made goes, with the echo container.
    const list = await call(alice, "container:list", {});
    if (list.ok) for (const c of list.data.items) await call(alice, "container:delete", { id: c.id });
  });

  /** Emits with an acknowledgement; rejects when none comes within the bound (a hang). */
  const acked: Emit = (event, ...args) =>
    (alice.timeout(ACK_BOUND_MS) as unknown as { emitWithAck: Emit }).emitWithAck(event, ...args);

  async function stillServes(): Promise<void> {
    expect(alice.connected, "berth closed the connection").toBe(true);
    const info = await call(alice, "server:info", {}, ACK_BOUND_MS);
    expect(info.ok).toBe(true);
  }

  for (const [event, { base, live }] of Object.entries(EVENTS) as Array<
    [ClientEvent, (typeof EVENTS)[ClientEvent]]
  >) {
    it(`${event}: every generated payload gets a documented answer in time`, async () => {
      const ids = live ? fc.constantFrom(NO_SUCH_ID, liveId) : fc.constant(NO_SUCH_ID);
      const payload = ids.chain((id) => mutated(base(id)));
      await fc.assert(
        fc.asyncProperty(payload, fc.boolean(), async (p, withAck) => {
          if (!withAck) {
            // No acknowledgement callback: berth must not throw calling one; the next acked call shows it lives.
            (alice as unknown as { emit(e: string, p: unknown): void }).emit(event, p);
            return;
          }
          const answer = await acked(event, p);
          expectDocumentedEnvelope(answer);
          tally(event, answer);
          if (event === "container:create" && (answer as { ok: boolean }).ok) createdOk++;
        }),
        fuzzParameters(1 / 40),
      );
      await stillServes();
    });
  }

  it("container:create from a valid spec, mutated: refused as documented, or made once and deleted", async () => {
    // The valid base reaches past validation (env, labels, secretEnv merged into the engine's spec) with
    // prototype keys and hostile values; the few mutations that stay valid make a container, deleted at once.
    const code = await echoCode();
    const base = {
      name: "fuzz-valid",
      code,
      env: { A: "1" },
      labels: { team: "fuzz" },
      secretEnv: { S: "s" },
    };
    await fc.assert(
      fc.asyncProperty(mutated(base), async (p) => {
        const answer = await acked("container:create", p);
        expectDocumentedEnvelope(answer);
        tally("container:create (valid base)", answer);
        const made = answer as { ok: boolean; data?: { id: string } };
        if (made.ok && made.data) {
          const gone = await call(alice, "container:delete", { id: made.data.id });
          expect(gone.ok).toBe(true);
        }
      }),
      // Each valid one costs an engine create: a share small enough for `npm test`, a few hundred in the soak.
      fuzzParameters(1 / 60),
    );
    await stillServes();
  });

  it("unknown events and extra arguments get a documented answer", async () => {
    const name = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        "__proto__",
        "constructor",
        "toString",
        "hasOwnProperty",
        "container:",
        "connect",
        "disconnect",
      ),
    );
    await fc.assert(
      fc.asyncProperty(name, fc.array(hostileValue, { maxLength: 3 }), async (event, args) => {
        if (
          [
            "connect",
            "disconnect",
            "connect_error",
            "disconnecting",
            "newListener",
            "removeListener",
          ].includes(event)
        )
          return;
        const answer = await acked(event, ...args);
        expectDocumentedEnvelope(answer);
      }),
      fuzzParameters(1 / 20),
    );
    await stillServes();
  });

  it("a handshake with a hostile auth object is refused UNAUTHORIZED (or closed: malformed, or over 16 KiB), and connects nothing", async () => {
    const auth = fc.oneof(
      hostileValue.map((token) => ({ token })),
      mutated({ token: "alice-token-0123456789x" }),
      fc.dictionary(fc.string({ maxLength: 12 }), hostileValue, { maxKeys: 4 }),
    );
    await fc.assert(
      fc.asyncProperty(auth, async (a) => {
        const socket = io(server.url, {
          auth: a as Record<string, unknown>,
          transports: ["websocket"],
          reconnection: false,
          forceNew: true,
        });
        try {
          const answered = new Promise<{ connected: boolean; code?: unknown }>((resolve) => {
            socket.once("connect", () => resolve({ connected: true }));
            socket.once("connect_error", (err: Error & { data?: { code?: unknown } }) =>
              resolve({ connected: false, code: err.data?.code }),
            );
            // Before authentication berth takes at most 16 KiB (README): over it, it closes the transport.
            // ("forced close" is the client's own, just before it emits the connect_error it received.)
            socket.io.on("close", (reason) => {
              if (reason !== "forced close") resolve({ connected: false, code: "closed" });
            });
          });
          const outcome = await within(10_000, "berth's answer to the handshake", answered); // room for a loaded machine
          const size = Buffer.byteLength(JSON.stringify(a) ?? "");
          // A CONNECT whose auth is no object is a malformed packet, which Socket.IO's decoder refuses by closing.
          const malformed = a === null || typeof a !== "object" || Array.isArray(a) || Buffer.isBuffer(a);
          if (outcome.code === "closed")
            expect(malformed || size > 16 * 1024, "closed a well-formed handshake under 16 KiB").toBe(true);
          else expect(outcome).toEqual({ connected: false, code: "UNAUTHORIZED" });
        } finally {
          socket.disconnect();
        }
      }),
      fuzzParameters(1 / 20),
    );
    await stillServes();
  });

  it("afterwards: no prototype polluted, no container but the valid creates, heap roughly flat", async () => {
    await stillServes();
    expect(prototypeKeys()).toEqual(protoBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const made = await docker.listContainers({
      all: true,
      filters: { label: [`berth.instance=${server.berth.instanceId}`] },
    });
    expect(made.length).toBe(1 + createdOk);
    gc();
    // Loose: vitest, fast-check and Socket.IO keep their own caches; a leak of the payloads (megabytes each) is far above.
    const grown = process.memoryUsage().heapUsed - heapBefore;
    expect(grown).toBeLessThan(96 * 1024 * 1024);

    const answers = [...tallies.values()].reduce((a, b) => a + b, 0);
    const refusals = new Map<string, number>();
    for (const [key, n] of tallies) {
      const code = key.slice(key.lastIndexOf(" ") + 1);
      refusals.set(code, (refusals.get(code) ?? 0) + n);
    }
    await reportReliability(import.meta.filename, {
      id: "fuzz-client-events",
      test: "Generated hostile payloads on every client event, unknown events, handshakes",
      did: `about ${FUZZ_RUNS.toLocaleString("en")} generated cases (fast-check; wrong types, huge strings and arrays, deep nesting, __proto__/constructor keys, invalid UTF-8, binary for JSON, missing acknowledgements) against one berth`,
      measured: `answers to the per-event cases (${answers.toLocaleString("en")}), by code: ${[...refusals]
        .sort((a, b) => b[1] - a[1])
        .map(([code, n]) => `${code} ${n}`)
        .join(", ")}; heap growth ${(grown / 2 ** 20).toFixed(1)} MiB`,
      invariants:
        "every answer within 5 s and a documented error code; the connection still served; no prototype polluted; no container but the valid creates; heap roughly flat",
    });
  });
});
