import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ActivityEntry,
  type BerthClient,
  type ConnectionState,
  type Container,
  connect,
  isBerthError,
} from "../../packages/client/src/index.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { refused } from "../helpers/refused.ts";
import { echoCode, TOKENS, tickingCode, useTestServer } from "../helpers/test-server.ts";
import { writeTokensFile } from "../helpers/tokens-file.ts";

/** Resolves when the client's connection state becomes `state`. */
function stateBecomes(client: BerthClient, state: ConnectionState): Promise<void> {
  return new Promise((resolve) => {
    const off = client.on("connection", (s) => {
      if (s !== state) return;
      off();
      resolve();
    });
  });
}

/**
 * Drops the client's transport, runs `during` while it is away, then lets it
 * reconnect — `fresh`: as a new session (berth recovers nothing), else as the
 * recoverable session it is.
 */
async function dropWhile(client: BerthClient, during: () => Promise<void>, fresh = false): Promise<void> {
  client.socket.io.reconnection(false);
  const away = stateBecomes(client, "reconnecting");
  client.socket.io.engine.close();
  await within(5_000, "the drop", away);
  try {
    await during();
  } finally {
    if (fresh) delete (client.socket as unknown as { _pid?: string })._pid;
    const back = stateBecomes(client, "connected");
    client.socket.io.reconnection(true);
    client.socket.connect();
    await within(10_000, "the reconnect", back);
  }
}

describe("@berth/client: reconnection", () => {
  const server = useTestServer();
  let alice: BerthClient;
  let other: BerthClient;
  let ticker: Container;

  beforeAll(async () => {
    [alice, other] = await Promise.all([
      connect(server.url, { token: TOKENS.alice }),
      connect(server.url, { token: TOKENS.alice }),
    ]);
    ticker = await alice.containers.create({ name: "ticker", code: await tickingCode() });
  });
  afterAll(async () => {
    await ticker?.delete().catch(() => {});
    await Promise.all([alice?.close(), other?.close()]);
  });

  it("fails a call in flight with DISCONNECTED at once when the connection drops, then reconnects by itself", async () => {
    const inFlight = alice.containers.create({ name: "in-flight", code: await echoCode() });
    const back = stateBecomes(alice, "connected");
    alice.socket.io.engine.close();
    // At once, rather than when the create would have ended; the margin is for a loaded machine.
    const err = await within(8_000, "the call's failure", refused(inFlight));
    expect(isBerthError(err, "DISCONNECTED")).toBe(true);
    expect((err as { retryable: boolean }).retryable).toBe(true);
    await within(10_000, "the reconnect", back);
    expect(alice.state).toBe("connected");
    // berth may have made it: the client says so, and the caller can check.
    await eventually(20_000, "the in-flight create, done or not", async () => {
      const found = await alice.containers.get("in-flight").catch(() => undefined);
      if (found && found.info.state !== "running" && found.info.state !== "created") return false;
      await found?.delete();
      return true;
    });
  });

  for (const fresh of [false, true]) {
    it(`gives the activity missed during a drop once and in order (${fresh ? "a fresh session" : "a recovered session"})`, async () => {
      const heard: ActivityEntry[] = [];
      const off = alice.activity.on((e) => heard.push(e));
      try {
        // The feed learns where it stands before the drop.
        const warm = await alice.containers.create({ name: `warm-${fresh}`, start: false });
        await eventually(20_000, "the warm-up entry", () => heard.some((e) => e.containerId === warm.id));
        let missed: string | undefined;
        await dropWhile(
          alice,
          async () => {
            const made = await other.containers.create({
              name: `missed-${fresh}`,
              code: await echoCode(),
              start: false,
            });
            await made.start();
            await made.stop();
            await made.delete();
            missed = made.id;
          },
          fresh,
        );
        await warm.delete();
        await eventually(10_000, "the entries after the drop", () =>
          heard.some((e) => e.containerId === warm.id && e.action === "container.deleted"),
        );
        const ids = heard.map((e) => e.id);
        expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
        const history = await alice.activity.history({ containerId: missed! });
        expect(history.items.length).toBeGreaterThanOrEqual(4);
        expect(heard.filter((e) => e.containerId === missed).map((e) => e.id)).toEqual(
          history.items.map((e) => e.id),
        );
      } finally {
        off();
      }
    });
  }

  it("resumes followLogs after a drop without a duplicated or a lost line, and brings subscriptions back", async () => {
    const numbers: number[] = [];
    const logs = ticker.followLogs({ tail: 1 });
    const messages: unknown[] = [];
    const offMessages = ticker.onMessage((data) => messages.push(data));
    await offMessages.ready;
    const stats = ticker.watchStats({ intervalMs: 250 });
    const late: unknown[] = [];
    let lateOff: ReturnType<Container["onMessage"]> | undefined;
    let lateLogs: ReturnType<Container["followLogs"]> | undefined;
    let lateStats: ReturnType<Container["watchStats"]> | undefined;
    const read = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const { value, done } = await within(10_000, "a log line", logs.next());
        if (done) throw new Error("the follow ended");
        numbers.push(Number(value.text.split(" ")[1]));
      }
    };
    await read(5);
    await dropWhile(
      alice,
      async () => {
        // A listener added while the client is away subscribes once it is back.
        lateOff = ticker.onMessage((data) => late.push(data));
        // So do streams started while it is away.
        lateLogs = ticker.followLogs({ tail: 2 });
        lateStats = ticker.watchStats({ intervalMs: 250 });
        // Lines the workload prints while the client is away: at least five more.
        const same = await other.containers.get("ticker");
        const last = numbers.at(-1)!;
        // Printed by a container: a loaded machine may run it slowly.
        await eventually(20_000, "five ticks while away", async () => {
          const [line] = await same.logs({ tail: 1 });
          return Number(line?.text.split(" ")[1]) >= last + 5;
        });
      },
      true,
    );
    await read(30);
    await logs.return();
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));

    await ticker.send({ after: "reconnect" });
    await eventually(10_000, "a message after the reconnect", () => messages.length > 0);
    expect(messages).toContainEqual({ echo: { after: "reconnect" } });
    await within(5_000, "the late listener's subscription", lateOff!.ready);
    await eventually(10_000, "the message to the late listener", () => late.length > 0);
    expect(late).toContainEqual({ echo: { after: "reconnect" } });
    offMessages();
    lateOff!();
    const lateNumbers: number[] = [];
    for await (const line of lateLogs!) if (lateNumbers.push(Number(line.text.split(" ")[1])) === 4) break;
    expect(lateNumbers).toEqual(lateNumbers.map((_, i) => lateNumbers[0]! + i));
    expect((await within(10_000, "a late stats sample", lateStats!.next())).value?.id).toBe(ticker.id);
    await lateStats!.return();
    const sample = await within(10_000, "a stats sample after the reconnect", stats.next());
    expect(sample.value?.id).toBe(ticker.id);
    await stats.return();
    await eventually(5_000, "berth's streams ended", () => server.berth.activeSubscriptions === 0);
  });
});

describe("@berth/client: a revoked token", () => {
  const CAROL = "carol-token-0123456789";
  const dir = mkdtempSync(join(tmpdir(), "berth-sdk-tokens-"));
  const file = join(dir, "tokens");
  const base = `alice:${TOKENS.alice}\n`;
  writeTokensFile(file, `${base}carol:${CAROL}\n`);
  const server = useTestServer({ BERTH_TOKENS: "", BERTH_TOKENS_FILE: file });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("ends in closed, without a reconnect loop: calls and iterators end with SESSION_REVOKED", async () => {
    const carol = await connect(server.url, { token: CAROL });
    const states: ConnectionState[] = [];
    carol.on("connection", (s) => states.push(s));
    const bot = await carol.containers.create({ name: "carols", code: await echoCode() });
    const stats = bot.watchStats({ intervalMs: 250 });
    await stats.next();
    const closed = stateBecomes(carol, "closed");
    writeTokensFile(file, base);
    await within(10_000, "the client's close", closed);
    expect(states).toEqual(["closed"]);
    // The samples it holds still come, then the iterator throws why it ended.
    const ended = await refused(
      (async () => {
        for (;;) if ((await stats.next()).done) return;
      })(),
    );
    expect(isBerthError(ended, "SESSION_REVOKED")).toBe(true);
    const err = await refused(carol.call("server:info", {}));
    expect(isBerthError(err, "SESSION_REVOKED")).toBe(true);
    expect(carol.socket.io.engine?.readyState ?? "closed").not.toBe("open");
    // No reconnect attempt follows.
    expect(carol.socket.active).toBe(false);
    await carol.close();
    const admin = await connect(server.url, {
      token: (await import("../helpers/test-server.ts")).TOKENS.admin,
    });
    await (await admin.containers.get(bot.id)).delete();
    await admin.close();
  });

  it("stops at the refusal of a token revoked while it was away: closed with SESSION_REVOKED, no loop", async () => {
    writeTokensFile(file, `${base}carol:${CAROL}\n`);
    await eventually(5_000, "carol's token in force", async () =>
      connect(server.url, { token: CAROL }).then(
        (c) => c.close().then(() => true),
        () => false,
      ),
    );
    const carol = await connect(server.url, { token: CAROL });
    const states: ConnectionState[] = [];
    carol.on("connection", (s) => states.push(s));
    const closed = stateBecomes(carol, "closed");
    carol.socket.io.reconnection(false);
    carol.socket.io.engine.close();
    await eventually(5_000, "the drop", () => carol.state === "reconnecting");
    writeTokensFile(file, base);
    await eventually(5_000, "carol's token revoked", async () =>
      connect(server.url, { token: CAROL }).then(
        (c) => c.close().then(() => false),
        () => true,
      ),
    );
    carol.socket.io.reconnection(true);
    carol.socket.connect();
    await within(10_000, "the client's close", closed);
    expect(states).toEqual(["reconnecting", "closed"]);
    expect(isBerthError(await refused(carol.call("server:info", {})), "SESSION_REVOKED")).toBe(true);
    expect(carol.socket.active).toBe(false);
    await carol.close();
  });
});
