import { describe, expect, it } from "vitest";
import { clientStreams } from "../src/client-streams.ts";
import { Container } from "../src/container.ts";
import { Containers } from "../src/containers.ts";
import { MAX_READY_WAIT_MS, MAX_STOP_WAIT_MS, OPERATION_MARGIN_MS } from "../src/operation-wait.ts";
import type { ContainerInfo } from "../src/protocol/index.ts";
import { FakeCore } from "./fake-core.ts";

const INFO = { id: "c1", name: "bot" } as ContainerInfo;

/** A fake berth that answers every long operation at once, and the handles on it. */
function handles() {
  const fake = new FakeCore();
  for (const event of [
    "container:create",
    "container:start",
    "container:stop",
    "container:restart",
    "container:update",
    "container:rollback",
    "container:delete",
  ])
    fake.handlers[event] = () => INFO;
  const streams = clientStreams(fake.core);
  return { fake, containers: new Containers(streams), bot: new Container(streams, INFO) };
}

/** How long the client waited for the last call of `event`. */
const waitOf = (fake: FakeCore, event: string) => fake.callsOf(event).at(-1)?.options.timeoutMs;

describe("long operations: how long the client waits for berth", () => {
  it("waits for a create, a start and a restart as long as berth may wait for readiness (up to its maximum), not 60 s", async () => {
    const { fake, containers, bot } = handles();
    await containers.create({ name: "bot" });
    expect(waitOf(fake, "container:create")).toBe(MAX_READY_WAIT_MS + OPERATION_MARGIN_MS);
    await bot.start();
    expect(waitOf(fake, "container:start")).toBe(MAX_READY_WAIT_MS + OPERATION_MARGIN_MS);
    await bot.restart({ timeoutSec: 5 });
    expect(waitOf(fake, "container:restart")).toBe(5_000 + MAX_READY_WAIT_MS + OPERATION_MARGIN_MS);
  });

  it("waits for a stop and a delete (which stops first) as long as berth may wait for the container to stop", async () => {
    const { fake, bot } = handles();
    await bot.stop({ timeoutSec: 30 });
    expect(waitOf(fake, "container:stop")).toBe(30_000 + OPERATION_MARGIN_MS);
    await bot.delete();
    expect(waitOf(fake, "container:delete")).toBe(MAX_STOP_WAIT_MS + OPERATION_MARGIN_MS);
  });

  it("waits for an update through its own ready timeout and health check, then its automatic rollback (a stop, and at least berth's readiness wait)", async () => {
    const { fake, bot } = handles();
    await bot.update(
      { files: {} },
      { readyTimeoutMs: 120_000, healthCheck: { request: {}, timeoutMs: 2_000 } },
    );
    // berth does not say its readiness wait here: its longest.
    expect(waitOf(fake, "container:update")).toBe(
      MAX_STOP_WAIT_MS + 120_000 + 2_000 + MAX_STOP_WAIT_MS + MAX_READY_WAIT_MS + OPERATION_MARGIN_MS,
    );
    await bot.rollback();
    expect(waitOf(fake, "container:rollback")).toBe(
      2 * (MAX_STOP_WAIT_MS + MAX_READY_WAIT_MS) + OPERATION_MARGIN_MS,
    );
  });

  it("keeps the caller's timeoutMs, and the client's requestTimeoutMs where nothing waits for readiness", async () => {
    const { fake, containers, bot } = handles();
    await bot.update({ files: {} }, { timeoutMs: 1_234 });
    expect(waitOf(fake, "container:update")).toBe(1_234);
    await containers.create({ name: "bot", start: false });
    expect(waitOf(fake, "container:create")).toBe(Math.max(fake.requestTimeoutMs, OPERATION_MARGIN_MS));
    await bot.start({ waitReady: false });
    expect(waitOf(fake, "container:start")).toBe(Math.max(fake.requestTimeoutMs, OPERATION_MARGIN_MS));
  });

  it("waits as long as the berth it is connected to says it waits (server:info timeouts), not berth's longest", async () => {
    const { fake, containers, bot } = handles();
    Object.assign(fake.core.info as object, { timeouts: { readyMs: 15_000, stopSec: 10 } });
    await containers.create({ name: "bot" });
    expect(waitOf(fake, "container:create")).toBe(
      Math.max(fake.requestTimeoutMs, 15_000 + OPERATION_MARGIN_MS),
    );
    await bot.update({ files: {} });
    expect(waitOf(fake, "container:update")).toBe(2 * (10_000 + 15_000) + OPERATION_MARGIN_MS);
    // A short wait for the new code: its rollback still gets berth's own.
    await bot.update({ files: {} }, { readyTimeoutMs: 1_500 });
    expect(waitOf(fake, "container:update")).toBe(10_000 + 1_500 + 10_000 + 15_000 + OPERATION_MARGIN_MS);
  });
});
