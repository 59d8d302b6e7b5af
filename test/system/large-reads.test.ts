import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
import { MAX_READS_IN_FLIGHT } from "../../src/api/connection-limits.ts";
import { MAX_LOG_ANSWER_BYTES } from "../../src/monitoring/container-logs.ts";
import { eventually } from "../helpers/deadline.ts";
import { type Client, call, ok, startTestServer, type TestServer } from "../helpers/test-server.ts";

/** The echo workload, which first writes 6,000 lines of 2 KiB (12 MiB of output). */
async function chattyCode(): Promise<{ files: Record<string, string> }> {
  const echo = await readFile(new URL("../fixtures/workloads/echo.js", import.meta.url), "utf8");
  const writer = [
    'const pad = "x".repeat(2000);',
    'for (let i = 0; i < 6000; i++) process.stdout.write("line " + i + " " + pad + "\\n");',
    "",
  ].join("\n");
  return { files: { "index.js": `${echo}\n${writer}` } };
}

describe("large reads on one connection", () => {
  let server: TestServer;
  let alice: Client;
  let bob: Client;
  let aliceBot: Container;
  let bobBot: Container;
  let aliceId: string;

  beforeAll(async () => {
    server = await startTestServer();
    [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    const code = await chattyCode();
    [aliceBot, bobBot] = await Promise.all([
      alice.containers.create({ name: "chatty", code }),
      bob.containers.create({ name: "chatty", code }),
    ]);
    aliceId = aliceBot.id;
    for (const bot of [aliceBot, bobBot]) {
      await eventually(20_000, "the workload wrote all its lines", async () => {
        const lines = await bot.logs({ tail: 1 });
        return lines[0]?.text.startsWith("line 5999 ") === true;
      });
    }
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  it("cuts a log answer at its byte budget, keeping the newest lines, and says so", async () => {
    // On call: the handle's logs() gives the lines only, not berth's `truncated` mark that this test is about.
    const answer = await ok(alice, "container:logs", { id: aliceId, tail: 5_000 });
    expect(answer.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(answer.lines))).toBeLessThanOrEqual(MAX_LOG_ANSWER_BYTES);
    expect(answer.lines.length).toBeGreaterThan(1_000);
    expect(answer.lines.at(-1)?.text.startsWith("line 5999 ")).toBe(true);
    // An answer within the budget is whole, and not marked.
    const short = await ok(alice, "container:logs", { id: aliceId, tail: 10 });
    expect(short.lines).toHaveLength(10);
    expect(short.truncated).toBeUndefined();
  });

  it("refuses a connection's large reads beyond its cap at once with RATE_LIMITED, and serves bob's meanwhile", async () => {
    const asks = Array.from({ length: 20 }, () =>
      call(alice, "container:logs", { id: aliceId, tail: 5_000 }).then((res) => ({ res, at: Date.now() })),
    );
    // Alice's burst on call: which of them berth refuses, and when, is the point. Bob reads through his handle.
    const bobs = Array.from({ length: MAX_READS_IN_FLIGHT }, () => bobBot.stats());
    const answers = await Promise.all(asks);
    const served = answers.filter((a) => a.res.ok);
    const refused = answers.filter((a) => !a.res.ok);
    expect(served).toHaveLength(MAX_READS_IN_FLIGHT);
    expect(refused).toHaveLength(20 - MAX_READS_IN_FLIGHT);
    for (const { res } of refused) {
      expect(res).toMatchObject({
        ok: false,
        error: {
          code: "RATE_LIMITED",
          retryable: true,
          details: { limit: "reads_in_flight", max: MAX_READS_IN_FLIGHT },
        },
      });
    }
    // Refused at once: before any of the served reads was answered.
    const firstServed = Math.min(...served.map((a) => a.at));
    for (const { at } of refused) expect(at).toBeLessThanOrEqual(firstServed);
    await Promise.all(bobs);
    // Once answered, the places are free again.
    await aliceBot.stats();
  });

  it("counts a status with its spec as a large read: refused beyond the cap, while a plain status is served", async () => {
    const logs = Array.from({ length: MAX_READS_IN_FLIGHT }, () =>
      call(alice, "container:logs", { id: aliceId, tail: 5_000 }),
    );
    // Sent after the log reads on the same connection, so handled while they hold every place.
    const [withSpec, plain] = await Promise.all([
      call(alice, "container:status", { id: aliceId, spec: true }),
      call(alice, "container:status", { id: aliceId }),
    ]);
    expect(withSpec).toMatchObject({
      ok: false,
      error: { code: "RATE_LIMITED", details: { limit: "reads_in_flight", max: MAX_READS_IN_FLIGHT } },
    });
    expect(plain).toMatchObject({ ok: true, data: { id: aliceId } });
    for (const res of await Promise.all(logs)) expect(res.ok).toBe(true);
    // Once the reads are answered, the spec is served.
    expect(await call(alice, "container:status", { id: aliceId, spec: true })).toMatchObject({
      ok: true,
      data: { spec: { env: {} } },
    });
  });
});
