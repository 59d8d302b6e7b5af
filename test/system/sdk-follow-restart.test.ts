import { afterAll, beforeAll, describe, it } from "vitest";
import { type BerthClient, type Container, connect, type LogLine } from "../../packages/client/src/index.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { echoCode, TOKENS, useTestServer } from "../helpers/test-server.ts";

/** The echo workload, printing `<label> <n>` every 50 ms. */
async function ticking(label: string): Promise<{ files: Record<string, string> }> {
  const echo = (await echoCode()).files["index.js"];
  return {
    files: { "index.js": `let n = 0; setInterval(() => console.log("${label} " + n++), 50);\n${echo}` },
  };
}

/** Reads `iterator` until `until` says a line is the one awaited; the lines read, that one included. */
async function readUntil(
  iterator: AsyncIterator<LogLine>,
  until: (l: LogLine) => boolean,
): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for (;;) {
    const r = await iterator.next();
    if (r.done) throw new Error(`the iterator ended after ${lines.length} lines`);
    lines.push(r.value);
    if (until(r.value)) return lines;
  }
}

describe("@berth/client: followLogs across its container's restarts", () => {
  const server = useTestServer();
  let alice: BerthClient;
  let bot: Container;

  beforeAll(async () => {
    alice = await connect(server.url, { token: TOKENS.alice });
    bot = await alice.containers.create({ name: "restarting-ticker", code: await ticking("tick") });
  });
  afterAll(async () => {
    await bot?.delete().catch(() => {});
    await alice?.close();
  });

  it("goes on giving lines after a restart and after an update, and ends cleanly when the container is deleted", async () => {
    const logs = bot.followLogs();
    // Past the first run's "tick 0", so that the next "tick 0" can only be the restarted workload's.
    // Deadlines for lines from a container, through the engine: long, for a loaded machine.
    await within(
      30_000,
      "a line before the restart",
      readUntil(logs, (l) => l.text !== "tick 0"),
    );
    await bot.restart();
    await within(
      30_000,
      "the restarted workload's first line",
      readUntil(logs, (l) => l.text === "tick 0"),
    );
    await within(
      30_000,
      "the restarted workload's next lines",
      readUntil(logs, (l) => l.text === "tick 3"),
    );
    await bot.update(await ticking("tock"));
    await within(
      30_000,
      "the new release's lines",
      readUntil(logs, (l) => l.text === "tock 3"),
    );
    await bot.delete();
    await within(
      30_000,
      "the end of the iterator once deleted",
      (async () => {
        for (;;) if ((await logs.next()).done) return;
      })(),
    );
    await eventually(20_000, "berth's follow gone", () => server.berth.activeSubscriptions === 0, 50);
  });
});
